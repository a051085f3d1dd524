"""Which user x job pairs deserve a score: no AI here, only cheap rules on stored facts."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE
from jobping_dagster.db.schema import companies, jobs, match_failures, user_job_matches, users

# Postings seen within this window are matched, so a user added today still gets this
# week's jobs. Pair partitions are therefore bounded by (users x jobs seen in the window).
FAN_OUT_WINDOW = timedelta(days=7)
# A posting whose board date is older than this is not worth an alert.
MAX_POSTING_AGE = timedelta(days=30)


# A user is matched only with a non-blank prompt.
PROMPT_LENGTH = sa.func.length(sa.func.trim(sa.func.coalesce(users.c.prompt, "")))


def users_with_prompt(conn: sa.Connection) -> list[int]:
    query = (
        sa.select(users.c.id)
        .where(users.c.active.is_(True))
        .where(PROMPT_LENGTH > 0)
        .order_by(users.c.id)
    )
    return list(conn.execute(query).scalars())


def users_without_prompt(conn: sa.Connection) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.active.is_(True))
        .where(PROMPT_LENGTH == 0)
    )
    return conn.execute(query).scalar_one()


def matchable_jobs(conn: sa.Connection, now: datetime) -> list[int]:
    """Recent jobs whose company research is fresh, newest first."""
    query = (
        sa.select(jobs.c.id)
        .join(companies, companies.c.key == jobs.c.company_key)
        .where(jobs.c.last_seen_at >= now - FAN_OUT_WINDOW)
        .where(companies.c.info_updated_at >= now - RESEARCH_MAX_AGE)
        .where(
            sa.or_(
                jobs.c.date_posted.is_(None),
                jobs.c.date_posted >= (now - MAX_POSTING_AGE).date(),
            )
        )
        .order_by(jobs.c.id.desc())
    )
    return list(conn.execute(query).scalars())


def candidate_pairs(conn: sa.Connection, now: datetime) -> list[tuple[int, int]]:
    """(user id, job id) pairs not yet scored nor failed, newest jobs first."""
    user_ids = users_with_prompt(conn)
    job_ids = matchable_jobs(conn, now)
    if not user_ids or not job_ids:
        return []
    oldest_job = min(job_ids)
    handled = set()
    for table in (user_job_matches, match_failures):
        rows = conn.execute(
            sa.select(table.c.user_id, table.c.job_id).where(table.c.job_id >= oldest_job)
        )
        handled.update((row.user_id, row.job_id) for row in rows)
    return [
        (user_id, job_id)
        for job_id in job_ids
        for user_id in user_ids
        if (user_id, job_id) not in handled
    ]
