"""Initial schema: users, raw scrapes, companies, jobs, matches, match failures, notifications.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("prompt", sa.Text, nullable=True),
        sa.Column("min_score", sa.Integer, nullable=False, server_default="70"),
        sa.Column("discord_webhook_url", sa.Text, nullable=True),
        sa.Column("webhook_dead_at", sa.DateTime, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("min_score BETWEEN 0 AND 100", name="ck_users_min_score"),
    )
    op.create_table(
        "raw_scrapes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("site", sa.String(40), nullable=False),
        sa.Column("fetched_at", sa.DateTime, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_table(
        "companies",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("info", sa.JSON, nullable=True),
        sa.Column("info_updated_at", sa.DateTime, nullable=True),
        sa.Column("researched_by", sa.String(100), nullable=True),
        sa.Column("research_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "jobs",
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
        sa.Column("salary_source", sa.String(40), nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("url_direct", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("company_fields", sa.JSON, nullable=False),
        sa.Column("first_seen_day", sa.Date, nullable=False, index=True),
        sa.Column("first_seen_at", sa.DateTime, nullable=False),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
        sa.Column("fanned_out_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("site", "source_id", name="uq_jobs_site_source_id"),
    )
    op.create_table(
        "user_job_matches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("partition_key", sa.String(40), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("analysis", sa.JSON, nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("prompt_version", sa.String(40), nullable=False),
        sa.Column("user_prompt_hash", sa.String(16), nullable=False),
        sa.Column("notify_threshold", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "job_id", name="uq_matches_user_job"),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="ck_matches_score"),
    )
    op.create_table(
        "match_failures",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("partition_key", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "match_id",
            sa.Integer,
            sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", sa.DateTime, nullable=True),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("discord_message_id", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "notifications",
        "match_failures",
        "user_job_matches",
        "jobs",
        "companies",
        "raw_scrapes",
        "users",
    ):
        op.drop_table(table)
