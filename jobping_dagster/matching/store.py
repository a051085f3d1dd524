"""Reading pair inputs and writing match results. A high score and its notification commit
in one transaction (the outbox, see high_scores.py), so a match is never notified twice or
silently never."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from jobping_dagster.db.schema import companies, jobs, match_failures, user_job_matches, users
from jobping_dagster.db.sql import chunks
from jobping_dagster.llm.models import CompanyProfile, JobForScoring, MatchAnalysis
from jobping_dagster.matching.high_scores import HighScore, HighScoreOutbox
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.pairs import parse_pair_key
from jobping_dagster.postings.scoring_input import job_for_scoring
from jobping_dagster.retries import next_attempt_at


@dataclass(frozen=True)
class PairInput:
    key: str
    user_id: int
    job_id: int
    prompt: str
    min_score: int
    user_email: str  # personal data: shown masked (users.validation.mask_email)
    job: JobForScoring
    company: CompanyProfile | None

    @property
    def prompt_hash(self) -> str:
        return prompt_hash(self.prompt)


def load_pair_inputs(
    conn: sa.Connection, keys: list[str]
) -> tuple[dict[str, PairInput], dict[str, str]]:
    """Inputs for each pair key, and a reason for each key that cannot be scored."""
    ids = {key: parse_pair_key(key) for key in keys}
    user_rows = _rows_by_id(conn, users, {user_id for user_id, _ in ids.values()})
    job_rows = _rows_by_id(conn, jobs, {job_id for _, job_id in ids.values()})
    company_keys = sorted({row.company_key for row in job_rows.values()})
    profiles = {}
    for part in chunks(company_keys):
        query = sa.select(companies.c.key, companies.c.info).where(companies.c.key.in_(part))
        for row in conn.execute(query):
            profiles[row.key] = CompanyProfile.model_validate(row.info) if row.info else None

    inputs, unusable = {}, {}
    for key, (user_id, job_id) in ids.items():
        user, job = user_rows.get(user_id), job_rows.get(job_id)
        if user is None:
            unusable[key] = f"user {user_id} does not exist (removed?)"
        elif job is None:
            unusable[key] = f"job {job_id} does not exist"
        elif not (user.prompt or "").strip():
            unusable[key] = f"user {user_id} has no prompt"
        else:
            inputs[key] = PairInput(
                key=key,
                user_id=user_id,
                job_id=job_id,
                prompt=user.prompt,
                min_score=user.min_score,
                user_email=user.email,
                job=job_for_scoring(job),
                company=profiles.get(job.company_key),
            )
    return inputs, unusable


def _rows_by_id(conn: sa.Connection, table: sa.Table, ids: set[int]) -> dict:
    found = {}
    for part in chunks(sorted(ids)):
        for row in conn.execute(sa.select(table).where(table.c.id.in_(part))):
            found[row.id] = row
    return found


def up_to_date_keys(
    conn: sa.Connection, inputs: dict[str, PairInput], *, model: str, prompt_version: str
) -> set[str]:
    """Pairs already scored by this model and prompt version against the user's current
    prompt: a retried batch skips them."""
    by_pair = {(p.user_id, p.job_id): p for p in inputs.values()}
    done = set()
    for part in chunks(sorted({job_id for _, job_id in by_pair})):
        query = sa.select(
            user_job_matches.c.user_id,
            user_job_matches.c.job_id,
            user_job_matches.c.model,
            user_job_matches.c.prompt_version,
            user_job_matches.c.user_prompt_hash,
        ).where(user_job_matches.c.job_id.in_(part))
        for row in conn.execute(query):
            pair = by_pair.get((row.user_id, row.job_id))
            if (
                pair is not None
                and row.model == model
                and row.prompt_version == prompt_version
                and row.user_prompt_hash == pair.prompt_hash
            ):
                done.add(pair.key)
    return done


@dataclass(frozen=True)
class SavedMatch:
    match_id: int
    notification_created: bool


def save_match(
    conn: sa.Connection,
    pair: PairInput,
    analysis: MatchAnalysis,
    *,
    model: str,
    prompt_version: str,
    now: datetime,
    outbox: HighScoreOutbox,
) -> SavedMatch:
    """Upsert the match; at or above the user's threshold, hand it to the outbox, which adds
    its notification once. Call inside one transaction."""
    values = {
        "user_id": pair.user_id,
        "job_id": pair.job_id,
        "partition_key": pair.key,
        "score": analysis.score,
        "analysis": analysis.model_dump(mode="json", exclude={"score"}),
        "model": model,
        "prompt_version": prompt_version,
        "user_prompt_hash": pair.prompt_hash,
        "notify_threshold": pair.min_score,
        "created_at": now,
        "updated_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(user_job_matches).values(**values)
    updated = {
        k: statement.excluded[k] for k in values if k not in ("user_id", "job_id", "created_at")
    }
    conn.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "job_id"], set_=updated)
    )
    match_id = conn.execute(
        sa.select(user_job_matches.c.id).where(
            user_job_matches.c.user_id == pair.user_id, user_job_matches.c.job_id == pair.job_id
        )
    ).scalar_one()
    conn.execute(
        match_failures.delete().where(
            match_failures.c.user_id == pair.user_id, match_failures.c.job_id == pair.job_id
        )
    )
    if analysis.score < pair.min_score:
        return SavedMatch(match_id, notification_created=False)
    high_score = HighScore(
        match_id, pair.user_id, pair.job_id, pair.job, analysis, model, pair.company
    )
    return SavedMatch(match_id, notification_created=outbox.add(conn, high_score, now))


def record_match_failure(
    conn: sa.Connection, key: str, *, error: str, retryable: bool, now: datetime
) -> tuple[int, datetime | None]:
    """Counts a failed attempt for the pair and schedules the next; returns the attempt
    count and when the next attempt is due (None: parked)."""
    user_id, job_id = parse_pair_key(key)
    existing = conn.execute(
        sa.select(match_failures.c.attempts).where(
            match_failures.c.user_id == user_id, match_failures.c.job_id == job_id
        )
    ).scalar_one_or_none()
    attempts = (existing or 0) + 1
    next_at = next_attempt_at(attempts, retryable, now)
    values = {
        "partition_key": key,
        "attempts": attempts,
        "last_error": error,
        "last_attempt_at": now,
        "next_attempt_at": next_at,
    }
    if existing is None:
        conn.execute(match_failures.insert().values(user_id=user_id, job_id=job_id, **values))
    else:
        conn.execute(
            match_failures.update()
            .where(match_failures.c.user_id == user_id, match_failures.c.job_id == job_id)
            .values(**values)
        )
    return attempts, next_at
