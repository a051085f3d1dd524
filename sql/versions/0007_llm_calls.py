"""The cost ledger: one row per LLM call (scoring, research, reading a wish) with its model,
tokens (input, of them cached, output) and whom it was for, so the daily account can count
calls and dollars per stage and per user; and each user's monthly budget in dollars
(NULL: none), past which their pairs wait for an on-demand pull.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place: recreating `users` on SQLite would cascade to every row that references it.
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(sa.Column("llm_budget_usd", sa.Float, nullable=True))
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("company_key", sa.String(80), nullable=True),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cached_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("batch", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_llm_calls_day", "llm_calls", ["day"])
    op.create_index("ix_llm_calls_user_id_day", "llm_calls", ["user_id", "day"])


def downgrade() -> None:
    op.drop_table("llm_calls")
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.drop_column("llm_budget_usd")
