"""Retry cool-down: when a failed company research or pair score is tried again.
NULL with attempts > 0 means parked until an operator re-drives it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime, nullable=True))
    with op.batch_alter_table("match_failures") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime, nullable=True))
    op.create_index("ix_match_failures_next_attempt_at", "match_failures", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_match_failures_next_attempt_at", "match_failures")
    with op.batch_alter_table("match_failures") as batch:
        batch.drop_column("next_attempt_at")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("next_attempt_at")
