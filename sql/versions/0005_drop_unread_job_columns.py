"""Drops jobs.salary_source and jobs.url_direct: written with every posting, never read
(the salary facts and the notification use the annualized salary and the posting URL).
Both stay in each day's raw scrape, from which they can be recovered.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Never recreate `jobs` on SQLite: dropping the old table would cascade (ON DELETE CASCADE,
# foreign keys on) to every match, candidate and notification. SQLite 3.35+ drops a plain
# column in place.


def upgrade() -> None:
    with op.batch_alter_table("jobs", recreate="never") as batch:
        batch.drop_column("salary_source")
        batch.drop_column("url_direct")


def downgrade() -> None:
    with op.batch_alter_table("jobs", recreate="never") as batch:
        batch.add_column(sa.Column("url_direct", sa.Text, nullable=True))
        batch.add_column(sa.Column("salary_source", sa.String(40), nullable=True))
