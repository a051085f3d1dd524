"""The Dagster side of chosen pairs, as the app database records it: which pairs still need
a partition, which need a run again (failed and cooled down, or stranded by a run that
ended without them), and which partitions retention deletes. The row in `match_candidates`
outlives its partition."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE
from jobping_dagster.db.schema import (
    companies,
    jobs,
    match_candidates,
    match_failures,
    user_job_matches,
    users,
)
from jobping_dagster.db.sql import chunks
from jobping_dagster.matching.batch import not_for_instant_runs
from jobping_dagster.matching.candidates import PROMPT_LENGTH

# The run key of a pair sent back to the fan-out to run again: its partition is deleted in
# one tick and added again, after every other key, in a later one (Dagster refuses both in
# one tick), so the pairs retried together form one partition range.
RETRY_PENDING = "retry-pending"


@dataclass(frozen=True)
class PairToFanOut:
    user_id: int
    job_id: int
    retry: bool  # sent back to run again (its old partition must be gone first)


def pairs_to_fan_out(
    conn: sa.Connection,
    now: datetime,
    limit: int,
    held_users: Collection[int] = (),
    batch_mode: str = "off",
) -> list[PairToFanOut]:
    """Chosen pairs without a partition whose company research is fresh (the scorer reads
    it): pairs sent back to run again first, then the newest postings. Pairs of
    `held_users` (past their monthly LLM budget) wait: they can still be pulled. Pairs the
    `batch_mode` (JOBPING_BATCH_API) sends to the Batch API, or in a batch, are left to the
    batch sensor."""
    query = (
        sa.select(
            match_candidates.c.user_id,
            match_candidates.c.job_id,
            (match_candidates.c.run_key == RETRY_PENDING).label("retry"),
        )
        .join(jobs, jobs.c.id == match_candidates.c.job_id)
        .join(companies, companies.c.key == jobs.c.company_key)
        .join(users, users.c.id == match_candidates.c.user_id)
        .where(match_candidates.c.partition_added_at.is_(None))
        .where(companies.c.info_updated_at >= now - RESEARCH_MAX_AGE)
        .where(users.c.active.is_(True))
        .where(users.c.id.not_in(sorted(held_users)) if held_users else sa.true())
        .where(not_for_instant_runs(batch_mode, now.date()))
        .order_by(
            sa.case((match_candidates.c.run_key == RETRY_PENDING, 0), else_=1),
            match_candidates.c.job_id.desc(),
            match_candidates.c.user_id,
        )
        .limit(limit)
    )
    return [PairToFanOut(row.user_id, row.job_id, bool(row.retry)) for row in conn.execute(query)]


def send_back_to_fan_out(conn: sa.Connection, pairs: list[tuple[int, int]]) -> None:
    """The pairs get a new partition and run from a later fan-out tick."""
    for part in chunks(pairs, 200):
        conn.execute(
            match_candidates.update()
            .where(sa.tuple_(match_candidates.c.user_id, match_candidates.c.job_id).in_(part))
            .values(partition_added_at=None, run_key=RETRY_PENDING)
        )


def waiting_pairs(conn: sa.Connection) -> int:
    query = sa.select(sa.func.count()).where(match_candidates.c.partition_added_at.is_(None))
    return conn.execute(query).scalar_one()


def mark_fanned_out(
    conn: sa.Connection, pairs: list[tuple[int, int]], run_key: str, now: datetime
) -> None:
    for part in chunks(pairs, 200):
        conn.execute(
            match_candidates.update()
            .where(sa.tuple_(match_candidates.c.user_id, match_candidates.c.job_id).in_(part))
            .values(partition_added_at=now, run_key=run_key, partition_deleted_at=None)
        )


def pairs_to_retry(
    conn: sa.Connection,
    *,
    now: datetime,
    stranded_before: datetime,
    busy_run_keys: set[str],
    ended_run_keys: set[str],
    limit: int,
) -> list[tuple[int, int]]:
    """Unscored pairs with a live partition, of an active user with a prompt, whose run is
    not queued or running, and that either
    - failed since they were fanned out, and their cool-down has passed (parked failures
      wait for `jobping redrive`), or
    - neither scored nor failed: stranded by a run that ended without them (killed, canceled,
      not retried) or, when no such run is known (a lost tick), fanned out before
      `stranded_before`."""
    due = []
    for row in conn.execute(_unscored_live_pairs(now)):
        if row.run_key in busy_run_keys:
            continue
        failed_since_fan_out = (
            row.last_attempt_at is not None and row.last_attempt_at >= row.partition_added_at
        )
        if (
            failed_since_fan_out
            or row.run_key in ended_run_keys
            or row.partition_added_at <= stranded_before
        ):
            due.append((row.user_id, row.job_id))
            if len(due) >= limit:
                break
    return due


def _unscored_live_pairs(now: datetime) -> sa.Select:
    """Pairs with a live partition and no score, of an active user with a prompt, that have
    not failed or whose failure has cooled down; oldest partition first."""
    return (
        sa.select(
            match_candidates.c.user_id,
            match_candidates.c.job_id,
            match_candidates.c.run_key,
            match_candidates.c.partition_added_at,
            match_failures.c.last_attempt_at,
        )
        .join(users, users.c.id == match_candidates.c.user_id)
        .outerjoin(
            user_job_matches,
            sa.and_(
                user_job_matches.c.user_id == match_candidates.c.user_id,
                user_job_matches.c.job_id == match_candidates.c.job_id,
            ),
        )
        .outerjoin(
            match_failures,
            sa.and_(
                match_failures.c.user_id == match_candidates.c.user_id,
                match_failures.c.job_id == match_candidates.c.job_id,
            ),
        )
        .where(match_candidates.c.partition_added_at.is_not(None))
        .where(match_candidates.c.partition_deleted_at.is_(None))
        .where(user_job_matches.c.id.is_(None))
        .where(users.c.active.is_(True))
        .where(PROMPT_LENGTH > 0)
        .where(sa.or_(match_failures.c.user_id.is_(None), match_failures.c.next_attempt_at <= now))
        .order_by(match_candidates.c.partition_added_at, match_candidates.c.job_id)
    )


def redrive_pairs(conn: sa.Connection, now: datetime, user_id: int | None = None) -> int:
    """Makes failed pairs (parked or cooling down) due now with a fresh attempt count; the
    fan-out sensor runs them on its next tick."""
    query = match_failures.update()
    if user_id is not None:
        query = query.where(match_failures.c.user_id == user_id)
    return conn.execute(query.values(attempts=0, next_attempt_at=now)).rowcount


def expired_partitions(
    conn: sa.Connection, added_before: datetime, limit: int
) -> list[tuple[int, int]]:
    """Pairs whose partition is older than the retention age and still exists."""
    query = (
        sa.select(match_candidates.c.user_id, match_candidates.c.job_id)
        .where(match_candidates.c.partition_added_at < added_before)
        .where(match_candidates.c.partition_deleted_at.is_(None))
        .order_by(match_candidates.c.partition_added_at)
        .limit(limit)
    )
    return [(row.user_id, row.job_id) for row in conn.execute(query)]


def mark_partitions_deleted(conn: sa.Connection, pairs: list[tuple[int, int]], now: datetime):
    for part in chunks(pairs, 200):
        conn.execute(
            match_candidates.update()
            .where(sa.tuple_(match_candidates.c.user_id, match_candidates.c.job_id).in_(part))
            .values(partition_deleted_at=now)
        )


def live_partitions(conn: sa.Connection) -> int:
    query = (
        sa.select(sa.func.count())
        .where(match_candidates.c.partition_added_at.is_not(None))
        .where(match_candidates.c.partition_deleted_at.is_(None))
    )
    return conn.execute(query).scalar_one()
