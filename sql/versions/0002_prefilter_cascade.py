"""Pre-filter cascade: posting facts, users' structured wishes, chosen match candidates.
Drops jobs.fanned_out_at (written, never read: candidates say which pairs were fanned out).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Never recreate `jobs` on SQLite: dropping the old table cascades (ON DELETE CASCADE,
    # foreign keys on) to every match and notification. SQLite 3.35+ drops a plain column
    # in place. (Recreating it here emptied user_job_matches and notifications.)
    with op.batch_alter_table("jobs", recreate="never") as batch:
        batch.add_column(sa.Column("facts", sa.JSON, nullable=True))
        batch.drop_column("fanned_out_at")
    op.create_table(
        "user_wishes",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("prompt_hash", sa.String(16), primary_key=True),
        sa.Column("parser", sa.String(100), nullable=False),
        sa.Column("wishes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "match_candidates",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("relevance", sa.Float, nullable=False),
        sa.Column("weight", sa.Float, nullable=False, server_default="1"),
        sa.Column("prompt_hash", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("partition_added_at", sa.DateTime, nullable=True),
        sa.Column("run_key", sa.String(120), nullable=True),
        sa.Column("partition_deleted_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_match_candidates_day", "match_candidates", ["day"])
    op.create_index(
        "ix_match_candidates_partition_added_at", "match_candidates", ["partition_added_at"]
    )


def downgrade() -> None:
    op.drop_table("match_candidates")
    op.drop_table("user_wishes")
    with op.batch_alter_table("jobs", recreate="never") as batch:
        batch.drop_column("facts")
        batch.add_column(sa.Column("fanned_out_at", sa.DateTime, nullable=True))
