"""The app database: SQLAlchemy Core tables. Migrations in `sql/versions/` create the same shape;
a test compares the two."""

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    # Free text: what the user wants. A user without one is never matched.
    sa.Column("prompt", sa.Text, nullable=True),
    sa.Column("min_score", sa.Integer, nullable=False, server_default="70"),
    # Contains a secret token: never logged, shown masked only.
    sa.Column("discord_webhook_url", sa.Text, nullable=True),
    # Set when Discord answered 404 for the webhook: it is never called again.
    sa.Column("webhook_dead_at", sa.DateTime, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    # argon2id (users/passwords.py); NULL: added by an operator, cannot log in until set.
    sa.Column("password_hash", sa.String(200), nullable=True),
    # LLM dollars the user's pairs may cost in a calendar month (UTC); NULL: no limit.
    sa.Column("llm_budget_usd", sa.Float, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    # Delivery policy (notify/policy.py). channels: comma list of discord, email, webhook;
    # NULL: discord when a webhook is set (the behaviour before policies); "": none.
    sa.Column("channels", sa.String(60), nullable=True),
    # Instant at or above this score, the daily digest below it; NULL: min_score.
    sa.Column("instant_score", sa.Integer, nullable=True),
    # "HH:MM-HH:MM" in the user's time zone: instant messages wait until it ends.
    sa.Column("quiet_hours", sa.String(11), nullable=True),
    # IANA name; NULL: UTC.
    sa.Column("timezone", sa.String(64), nullable=True),
    # Instant messages a day at most, beyond: the digest; NULL: no cap.
    sa.Column("daily_cap", sa.Integer, nullable=True),
    # The generic webhook and its HMAC secret: both secrets, shown masked only.
    sa.Column("webhook_url", sa.Text, nullable=True),
    sa.Column("webhook_secret", sa.String(200), nullable=True),
    # In the email's unsubscribe link; generated when the first email is queued.
    sa.Column("unsubscribe_token", sa.String(64), nullable=True),
    # Set by the unsubscribe link: no email is sent until the user picks email again.
    sa.Column("email_unsubscribed_at", sa.DateTime, nullable=True),
    sa.CheckConstraint("min_score BETWEEN 0 AND 100", name="ck_users_min_score"),
    sa.Index("ix_users_unsubscribe_token", "unsubscribe_token", unique=True),
)

# Every scrape exactly as the source returned it, so a past day can be rebuilt.
raw_scrapes = sa.Table(
    "raw_scrapes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("site", sa.String(40), nullable=False),
    sa.Column("fetched_at", sa.DateTime, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
)

companies = sa.Table(
    "companies",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("info", sa.JSON, nullable=True),
    sa.Column("info_updated_at", sa.DateTime, nullable=True),
    sa.Column("researched_by", sa.String(100), nullable=True),
    sa.Column("research_attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # When failed research is tried again; NULL after a failure: parked for an operator.
    sa.Column("next_attempt_at", sa.DateTime, nullable=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site", sa.String(40), nullable=False),
    sa.Column("source_id", sa.String(200), nullable=False),
    sa.Column("dedup_key", sa.String(600), nullable=False, unique=True),
    sa.Column("company_key", sa.String(80), sa.ForeignKey("companies.key"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("company", sa.String(300), nullable=False),
    sa.Column("location", sa.String(300), nullable=True),
    sa.Column("is_remote", sa.Boolean, nullable=True),
    sa.Column("date_posted", sa.Date, nullable=True),
    sa.Column("job_type", sa.String(200), nullable=True),
    sa.Column("salary_min", sa.Float, nullable=True),
    sa.Column("salary_max", sa.Float, nullable=True),
    sa.Column("salary_currency", sa.String(10), nullable=True),
    sa.Column("url", sa.Text, nullable=False),
    # Posting fields nothing reads (salary_source, url_direct) are not stored: the raw
    # scrape keeps them.
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("company_fields", sa.JSON, nullable=False),
    # The scraped_jobs partition: the UTC day the posting was first seen.
    sa.Column("first_seen_day", sa.Date, nullable=False, index=True),
    sa.Column("first_seen_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
    # PostingFacts (country, work mode, seniority, annual salary, language...), read once
    # when the posting is stored; NULL for rows stored before facts existed.
    sa.Column("facts", sa.JSON, nullable=True),
    sa.UniqueConstraint("site", "source_id", name="uq_jobs_site_source_id"),
)

user_job_matches = sa.Table(
    "user_job_matches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("partition_key", sa.String(40), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    # explanation, pros, cons, recommendation
    sa.Column("analysis", sa.JSON, nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("prompt_version", sa.String(40), nullable=False),
    # Which version of the user's prompt was scored, so an edited prompt is visible.
    sa.Column("user_prompt_hash", sa.String(16), nullable=False),
    # The user's threshold when this pair was scored: at or above it, a notification exists.
    sa.Column("notify_threshold", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "job_id", name="uq_matches_user_job"),
    sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_matches_score"),
)

# What JobPing understood of a user's wish (a WishProfile), once per version of the prompt.
user_wishes = sa.Table(
    "user_wishes",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("prompt_hash", sa.String(16), primary_key=True),
    # Which reader produced it: the OpenAI model, or the local parser.
    sa.Column("parser", sa.String(100), nullable=False),
    sa.Column("wishes", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)

# The pairs the cascade chose to score (kept by relevance, sampled as shadow, pulled on
# demand or rerun by an operator). Pairs it dropped are only counted, never stored: they
# can always be pulled later. The fan-out sensor turns rows without a partition into pair
# partitions and runs; retention later deletes the partition and keeps the row.
match_candidates = sa.Table(
    "match_candidates",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    # The scraped_jobs day whose selection chose the pair.
    sa.Column("day", sa.Date, nullable=False, index=True),
    # kept | shadow | pulled | rerun
    sa.Column("decision", sa.String(10), nullable=False),
    sa.Column("relevance", sa.Float, nullable=False),
    # How many dropped pairs this one stands for in the recall estimate: 1 / sampling rate
    # for a shadow pair, 1 otherwise.
    sa.Column("weight", sa.Float, nullable=False, server_default="1"),
    sa.Column("prompt_hash", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # When the fan-out sensor added the pair partition, and the run key of its last run.
    sa.Column("partition_added_at", sa.DateTime, nullable=True, index=True),
    sa.Column("run_key", sa.String(120), nullable=True),
    # When retention deleted the pair partition from Dagster (the row stays).
    sa.Column("partition_deleted_at", sa.DateTime, nullable=True),
)

# Pairs whose last scoring attempt failed: the reason and the attempt count, for operators.
match_failures = sa.Table(
    "match_failures",
    metadata,
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("partition_key", sa.String(40), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("last_attempt_at", sa.DateTime, nullable=False),
    # When the pair is scored again; NULL: parked for an operator (`jobping redrive`).
    sa.Column("next_attempt_at", sa.DateTime, nullable=True, index=True),
)

# The delivery outbox: one row per high-score match and channel (kind "instant"), one per
# user, day and channel for a digest (kind "digest", its matches in digest_matches), one per
# user, key and channel for a notice (kind "notice", notify.outbox.enqueue_notice).
# Referenced by digest_matches (ON DELETE CASCADE): never recreate it in a SQLite batch.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "match_id",
        sa.Integer,
        sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True),
    # The match's score; a digest's best score; NULL for a notice.
    sa.Column("score", sa.Integer, nullable=True),
    # instant | digest | notice
    sa.Column("kind", sa.String(10), nullable=False, server_default="instant"),
    # Rendered when the match committed (notify/render.py): the plain line the table
    # channel records, and per channel what it sends, e.g. {"discord": payload}. Delivery
    # sends these as they are; a digest's are built when it is sent, from its matches.
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("payloads", sa.JSON, nullable=False),
    # pending -> sending -> sent (a channel) | recorded (table only) | retry | failed | dead
    # | unknown. A pending row with next_attempt_at waits for it (quiet hours, a digest's day).
    sa.Column("status", sa.String(20), nullable=False, index=True),
    # discord | email | webhook | table
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("next_attempt_at", sa.DateTime, nullable=True),
    sa.Column("claimed_at", sa.DateTime, nullable=True),
    sa.Column("discord_message_id", sa.String(40), nullable=True),
    # "digest:YYYY-MM-DD" (the user's local day) or "notice:<key>"; NULL for instant rows.
    sa.Column("dedup_key", sa.String(120), nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("delivered_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("match_id", "channel", name="uq_notifications_match_channel"),
    sa.UniqueConstraint("user_id", "channel", "dedup_key", name="uq_notifications_user_key"),
)

# Which matches a digest covers, each with the line rendered when the match committed.
# A match is in at most one digest per channel, and never also in an instant row.
digest_matches = sa.Table(
    "digest_matches",
    metadata,
    sa.Column(
        "notification_id",
        sa.Integer,
        sa.ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "match_id",
        sa.Integer,
        sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    # title, company, where, url, score, recommendation, explanation (notify/render.py)
    sa.Column("item", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("match_id", "channel", name="uq_digest_matches_match_channel"),
)


# A seeker's verdict on one of their matches, from the web page or the API: kept to tune the
# scorer and the pre-filter later (nothing reads it automatically yet).
match_feedback = sa.Table(
    "match_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "match_id",
        sa.Integer,
        sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # good | bad
    sa.Column("verdict", sa.String(10), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("user_id", "match_id", name="uq_match_feedback_user_match"),
    sa.CheckConstraint("verdict IN ('good', 'bad')", name="ck_match_feedback_verdict"),
)

# The cost ledger: one row per LLM call. No foreign keys: the ledger outlives postings and
# companies; a removed user's rows keep their cost with user_id set to NULL.
llm_calls = sa.Table(
    "llm_calls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # The UTC day of the call: the daily account's partition.
    sa.Column("day", sa.Date, nullable=False),
    # score | research | wishes
    sa.Column("stage", sa.String(20), nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=True),
    sa.Column("job_id", sa.Integer, nullable=True),
    sa.Column("company_key", sa.String(80), nullable=True),
    # From the API's usage: prompt tokens (cached_tokens of them served from the prompt
    # cache at a lower price) and completion tokens. 0 for the local scorer.
    sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cached_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
    # Sent through the Batch API (half price).
    sa.Column("batch", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_llm_calls_day", "day"),
    sa.Index("ix_llm_calls_user_id_day", "user_id", "day"),
)

# Jobs submitted to OpenAI's Batch API (matching/batch.py): pairs scored at half price hours
# later. status: submitted (waiting on the provider), completed (results ready; run_key is
# the match run that writes them), failed (its pairs went back to the instant path; error
# says why).
llm_batches = sa.Table(
    "llm_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("provider_batch_id", sa.String(100), nullable=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("pair_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("completed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("output_file_id", sa.String(100), nullable=True),
    sa.Column("error_file_id", sa.String(100), nullable=True),
    sa.Column("run_key", sa.String(120), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("submitted_at", sa.DateTime, nullable=False),
    sa.Column("completed_at", sa.DateTime, nullable=True),
    sa.Index("ix_llm_batches_status", "status"),
)

# The pairs of each batch (no foreign key to the pair: the batch's record outlives it).
llm_batch_pairs = sa.Table(
    "llm_batch_pairs",
    metadata,
    sa.Column(
        "batch_id",
        sa.Integer,
        sa.ForeignKey("llm_batches.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, primary_key=True),
)
