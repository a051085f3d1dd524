"""Notifications carry their rendered messages: `payloads` holds, per delivery channel, what
is sent, rendered when the match commits, so delivery no longer rebuilds the message from
the match, the posting and the company. Rows that may still be sent (everything but sent
and recorded) are rendered here, from the same tables delivery used to read; the others
get an empty mapping.

This migration renders with the app's code (notify/render.py) as it is when it runs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The tables as they are at this revision (not db/schema.py's, which follows the head).
notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer),
    sa.column("match_id", sa.Integer),
    sa.column("job_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("payloads", sa.JSON),
)
matches = sa.table(
    "user_job_matches",
    sa.column("id", sa.Integer),
    sa.column("score", sa.Integer),
    sa.column("analysis", sa.JSON),
    sa.column("model", sa.String),
)
jobs = sa.table(
    "jobs",
    sa.column("id", sa.Integer),
    sa.column("company_key", sa.String),
    # What job_for_scoring reads:
    sa.column("title", sa.String),
    sa.column("company", sa.String),
    sa.column("description", sa.Text),
    sa.column("location", sa.String),
    sa.column("is_remote", sa.Boolean),
    sa.column("job_type", sa.String),
    sa.column("salary_min", sa.Float),
    sa.column("salary_max", sa.Float),
    sa.column("salary_currency", sa.String),
    sa.column("date_posted", sa.Date),
    sa.column("url", sa.Text),
)
companies = sa.table("companies", sa.column("key", sa.String), sa.column("info", sa.JSON))
DELIVERED = ("sent", "recorded")


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("payloads", sa.JSON, nullable=True))
    conn = op.get_bind()
    conn.execute(notifications.update().values(payloads={}))
    rendered = [
        {"notification_id": row.notification_id, "rendered": _payloads(row)}
        for row in conn.execute(_undelivered())
    ]
    if rendered:
        conn.execute(
            notifications.update()
            .where(notifications.c.id == sa.bindparam("notification_id"))
            .values(payloads=sa.bindparam("rendered", type_=sa.JSON)),
            rendered,
        )
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("payloads", existing_type=sa.JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("payloads")


def _undelivered():
    return (
        sa.select(
            notifications.c.id.label("notification_id"),
            matches.c.score,
            matches.c.analysis,
            matches.c.model,
            companies.c.info,
            *(column for column in jobs.c if column.name not in ("id", "company_key")),
        )
        .join(matches, matches.c.id == notifications.c.match_id)
        .join(jobs, jobs.c.id == notifications.c.job_id)
        .join(companies, companies.c.key == jobs.c.company_key)
        .where(notifications.c.status.not_in(DELIVERED))
    )


def _payloads(row) -> dict:
    """What delivery used to build for the row; {} when the stored match does not validate
    (the drain then fails the row with a clear error instead of sending)."""
    from jobping_dagster.llm.models import CompanyProfile, MatchAnalysis
    from jobping_dagster.notify.render import notification_view, render
    from jobping_dagster.postings.scoring_input import job_for_scoring

    try:
        analysis = MatchAnalysis.model_validate({**row.analysis, "score": row.score})
        company = CompanyProfile.model_validate(row.info) if row.info else None
    except ValueError:
        return {}
    return render(notification_view(job_for_scoring(row), analysis, row.model, company)).payloads
