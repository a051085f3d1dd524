"""Counts of what the app database holds, for `jobping status` and the run summary."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import (
    companies,
    jobs,
    match_candidates,
    match_failures,
    notifications,
    user_job_matches,
    users,
)
from jobping_dagster.matching.candidates import PROMPT_LENGTH
from jobping_dagster.notify.outbox import outbox_counts


def _count(conn: sa.Connection, table: sa.Table, *where) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def status_counts(conn: sa.Connection) -> dict:
    outbox = outbox_counts(conn)
    return {
        "postings": _count(conn, jobs),
        "companies": _count(conn, companies),
        "companies_researched": _count(conn, companies, companies.c.info_updated_at.is_not(None)),
        "companies_failing": _count(
            conn,
            companies,
            companies.c.info_updated_at.is_(None),
            companies.c.research_attempts > 0,
        ),
        "companies_parked": _count(
            conn,
            companies,
            companies.c.research_attempts > 0,
            companies.c.next_attempt_at.is_(None),
        ),
        "users": _count(conn, users),
        "users_without_prompt": _count(conn, users, PROMPT_LENGTH == 0),
        "pairs_chosen": _count(conn, match_candidates),
        "pairs_waiting_for_a_partition": _count(
            conn, match_candidates, match_candidates.c.partition_added_at.is_(None)
        ),
        "live_pair_partitions": _count(
            conn,
            match_candidates,
            match_candidates.c.partition_added_at.is_not(None),
            match_candidates.c.partition_deleted_at.is_(None),
        ),
        "matches": _count(conn, user_job_matches),
        "failed_pairs": _count(conn, match_failures),
        "parked_pairs": _count(conn, match_failures, match_failures.c.next_attempt_at.is_(None)),
        "notifications": sum(outbox.values()),
        "notifications_by_status": outbox,
        "pending_outbox": outbox.get("pending", 0) + outbox.get("retry", 0),
    }


def top_matches(conn: sa.Connection, since: datetime, limit: int = 5) -> list:
    query = (
        sa.select(
            users.c.email,
            user_job_matches.c.partition_key,
            user_job_matches.c.score,
            jobs.c.title,
            jobs.c.company,
        )
        .join(users, users.c.id == user_job_matches.c.user_id)
        .join(jobs, jobs.c.id == user_job_matches.c.job_id)
        .where(user_job_matches.c.updated_at >= since)
        .order_by(user_job_matches.c.score.desc(), user_job_matches.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()


def changed_since(conn: sa.Connection, since: datetime) -> dict:
    delivered = conn.execute(
        sa.select(notifications.c.channel, sa.func.count())
        .where(notifications.c.delivered_at >= since)
        .group_by(notifications.c.channel)
    ).all()
    return {
        "new_postings": _count(conn, jobs, jobs.c.first_seen_at >= since),
        "companies_researched": _count(conn, companies, companies.c.info_updated_at >= since),
        "matches_scored": _count(conn, user_job_matches, user_job_matches.c.updated_at >= since),
        "high_score_matches": _count(
            conn,
            user_job_matches,
            user_job_matches.c.updated_at >= since,
            user_job_matches.c.score >= user_job_matches.c.notify_threshold,
        ),
        "notifications_delivered": {channel: count for channel, count in delivered},
    }
