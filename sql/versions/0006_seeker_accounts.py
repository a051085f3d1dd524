"""Seekers reach JobPing themselves (the API and the web page): a password hash per user
(NULL for users an operator added with the CLI, who cannot log in until they get one) and
their feedback on matches.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place: recreating `users` on SQLite would cascade to every row that references it.
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
    op.create_table(
        "match_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "match_id",
            sa.Integer,
            sa.ForeignKey("user_job_matches.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "match_id", name="uq_match_feedback_user_match"),
        sa.CheckConstraint("verdict IN ('good', 'bad')", name="ck_match_feedback_verdict"),
    )


def downgrade() -> None:
    op.drop_table("match_feedback")
    with op.batch_alter_table("users", recreate="never") as batch:
        batch.drop_column("password_hash")
