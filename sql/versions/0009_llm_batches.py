"""Batch API jobs: llm_batches (one row per job submitted to OpenAI's Batch API: provider
id, status, counts, times, error) and llm_batch_pairs (which pairs each holds).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_batches",
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
    )
    op.create_index("ix_llm_batches_status", "llm_batches", ["status"])
    op.create_table(
        "llm_batch_pairs",
        sa.Column(
            "batch_id",
            sa.Integer,
            sa.ForeignKey("llm_batches.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("llm_batch_pairs")
    op.drop_index("ix_llm_batches_status", "llm_batches")
    op.drop_table("llm_batches")
