"""Delivery channels and policy: email and a signed generic webhook besides Discord; per user
which channels, an instant band, a daily digest, quiet hours and a daily cap.

`users` gains its policy columns in place (recreating it on SQLite would cascade to every
row that references it). `notifications` becomes one row per match and channel (a digest
row per user, day and channel has no match: `match_id` and `job_id` are nullable), with
`kind` and `dedup_key`; it is rebuilt as a new table, rows copied, because its old unique
(match_id) has no portable name to drop. Rows not yet delivered that had no channel get the
one delivery would have chosen (discord with a live webhook, else table). `digest_matches`
links a digest to the matches it covers.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COPIED = (
    "id, match_id, user_id, job_id, score, message, payloads, status, channel, attempts,"
    " last_error, next_attempt_at, claimed_at, discord_message_id, created_at, delivered_at"
)


def upgrade() -> None:
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(sa.Column("channels", sa.String(60), nullable=True))
        batch.add_column(sa.Column("instant_score", sa.Integer, nullable=True))
        batch.add_column(sa.Column("quiet_hours", sa.String(11), nullable=True))
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        batch.add_column(sa.Column("daily_cap", sa.Integer, nullable=True))
        batch.add_column(sa.Column("webhook_url", sa.Text, nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(200), nullable=True))
        batch.add_column(sa.Column("unsubscribe_token", sa.String(64), nullable=True))
        batch.add_column(sa.Column("email_unsubscribed_at", sa.DateTime, nullable=True))
    op.create_index("ix_users_unsubscribe_token", "users", ["unsubscribe_token"], unique=True)

    conn = op.get_bind()
    conn.exec_driver_sql(
        "UPDATE notifications SET channel = CASE WHEN EXISTS (SELECT 1 FROM users"
        " WHERE users.id = notifications.user_id AND users.discord_webhook_url IS NOT NULL"
        " AND users.webhook_dead_at IS NULL) THEN 'discord' ELSE 'table' END"
        " WHERE channel IS NULL"
    )
    op.create_table(
        "notifications_0008",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "match_id",
            sa.Integer,
            sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("kind", sa.String(10), nullable=False, server_default="instant"),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("payloads", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("discord_message_id", sa.String(40), nullable=True),
        sa.Column("dedup_key", sa.String(120), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("match_id", "channel", name="uq_notifications_match_channel"),
        sa.UniqueConstraint("user_id", "channel", "dedup_key", name="uq_notifications_user_key"),
    )
    conn.exec_driver_sql(
        f"INSERT INTO notifications_0008 ({_COPIED}) SELECT {_COPIED} FROM notifications"
    )
    op.drop_table("notifications")
    op.rename_table("notifications_0008", "notifications")
    if conn.dialect.name == "postgresql":
        # The copied ids: new rows continue after them.
        op.execute("ALTER SEQUENCE notifications_0008_id_seq RENAME TO notifications_id_seq")
        op.execute(
            "SELECT setval('notifications_id_seq', COALESCE((SELECT MAX(id) FROM notifications),"
            " 0) + 1, false)"
        )
    op.create_index("ix_notifications_status", "notifications", ["status"])
    op.create_table(
        "digest_matches",
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
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("item", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("match_id", "channel", name="uq_digest_matches_match_channel"),
    )


def downgrade() -> None:
    op.drop_table("digest_matches")
    conn = op.get_bind()
    # Only what the old shape can hold: one row per match.
    conn.exec_driver_sql(
        "DELETE FROM notifications WHERE match_id IS NULL OR id NOT IN"
        " (SELECT MIN(id) FROM notifications GROUP BY match_id)"
    )
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("uq_notifications_user_key", type_="unique")
        batch.drop_constraint("uq_notifications_match_channel", type_="unique")
        batch.drop_column("kind")
        batch.drop_column("dedup_key")
        batch.alter_column("match_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("job_id", existing_type=sa.Integer, nullable=False)
        batch.alter_column("score", existing_type=sa.Integer, nullable=False)
        batch.alter_column("channel", existing_type=sa.String(20), nullable=True)
        batch.create_unique_constraint("uq_notifications_match_id", ["match_id"])
    op.drop_index("ix_users_unsubscribe_token", table_name="users")
    with op.batch_alter_table("users", recreate="never") as batch:
        for column in (
            "email_unsubscribed_at",
            "unsubscribe_token",
            "webhook_secret",
            "webhook_url",
            "daily_cap",
            "timezone",
            "quiet_hours",
            "instant_score",
            "channels",
        ):
            batch.drop_column(column)
