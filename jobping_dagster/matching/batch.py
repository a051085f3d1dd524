"""Which pairs go through OpenAI's Batch API (half price, results within hours instead of
seconds), and the app database's record of each batch (`llm_batches`, `llm_batch_pairs`).

A pair in a batch has no partition yet; its `match_candidates.run_key` is `batch:<id>`, so
the instant fan-out leaves it alone. When the batch completes, the batch sensor adds its
partitions and requests a match run that takes the scores from the batch's output file (no
new call). When it fails or expires, its pairs get `run_key = batch-failed` and go the
instant way. No AI here."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE
from jobping_dagster.db.schema import (
    companies,
    jobs,
    llm_batch_pairs,
    llm_batches,
    match_candidates,
    users,
)
from jobping_dagster.db.sql import chunks

OFF, SHADOW, NON_URGENT = "off", "shadow", "non-urgent"
# The run key of a pair in a batch, and of a pair whose batch failed (the instant path
# takes it).
BATCH_RUN_KEY_PREFIX = "batch:"
BATCH_FAILED = "batch-failed"
# What the provider's status means here.
DONE_STATUSES = frozenset({"completed"})
FAILED_STATUSES = frozenset({"failed", "expired", "cancelled"})


def goes_by_batch(mode: str, decision: str, day: date, today: date) -> bool:
    """Whether a chosen pair, never run yet, waits for the Batch API instead of an instant
    run: shadow pairs (the recall sample: nobody waits on them) with `shadow`; also the
    pairs of past days (backfills) with `non-urgent`. Pulled and rerun pairs are someone
    asking now: always instant."""
    if mode == SHADOW:
        return decision == "shadow"
    if mode == NON_URGENT:
        return decision == "shadow" or (decision == "kept" and day < today)
    return False


def batch_eligible(mode: str, today: date) -> sa.ColumnElement[bool]:
    """goes_by_batch as SQL over match_candidates (for pairs never run: run_key NULL)."""
    mc = match_candidates.c
    if mode == SHADOW:
        by_decision = mc.decision == "shadow"
    elif mode == NON_URGENT:
        by_decision = sa.or_(
            mc.decision == "shadow", sa.and_(mc.decision == "kept", mc.day < today)
        )
    else:
        return sa.false()
    return sa.and_(by_decision, mc.run_key.is_(None))


def not_for_instant_runs(mode: str, today: date) -> sa.ColumnElement[bool]:
    """The condition the instant fan-out adds: neither waiting for a batch nor in one."""
    run_key = match_candidates.c.run_key
    in_batch = sa.and_(run_key.is_not(None), run_key.startswith(BATCH_RUN_KEY_PREFIX))
    return sa.not_(sa.or_(batch_eligible(mode, today), in_batch))


def pairs_to_batch(
    conn: sa.Connection, mode: str, now: datetime, limit: int, held_users: Collection[int] = ()
) -> list[tuple[int, int]]:
    """Batch-eligible pairs not in a batch yet whose company research is fresh (as for the
    instant fan-out), newest postings first; pairs of users past their budget wait."""
    query = (
        sa.select(match_candidates.c.user_id, match_candidates.c.job_id)
        .join(jobs, jobs.c.id == match_candidates.c.job_id)
        .join(companies, companies.c.key == jobs.c.company_key)
        .join(users, users.c.id == match_candidates.c.user_id)
        .where(match_candidates.c.partition_added_at.is_(None))
        .where(batch_eligible(mode, now.date()))
        .where(companies.c.info_updated_at >= now - RESEARCH_MAX_AGE)
        .where(users.c.active.is_(True))
        .where(users.c.id.not_in(sorted(held_users)) if held_users else sa.true())
        .order_by(match_candidates.c.job_id.desc(), match_candidates.c.user_id)
        .limit(limit)
    )
    return [(row.user_id, row.job_id) for row in conn.execute(query)]


def start_batch(conn: sa.Connection, model: str, pairs: list[tuple[int, int]], now) -> int:
    """Records a batch about to be submitted and marks its pairs; its id."""
    batch_id = conn.execute(
        llm_batches.insert().values(
            model=model, status="submitting", pair_count=len(pairs), submitted_at=now
        )
    ).inserted_primary_key[0]
    for part in chunks(pairs, 200):
        conn.execute(
            llm_batch_pairs.insert(),
            [{"batch_id": batch_id, "user_id": u, "job_id": j} for u, j in part],
        )
    _set_run_key(conn, pairs, f"{BATCH_RUN_KEY_PREFIX}{batch_id}")
    return batch_id


def mark_submitted(conn: sa.Connection, batch_id: int, provider_batch_id: str) -> None:
    conn.execute(
        llm_batches.update()
        .where(llm_batches.c.id == batch_id)
        .values(status="submitted", provider_batch_id=provider_batch_id)
    )


def submitted_batches(conn: sa.Connection) -> list[sa.Row]:
    query = (
        sa.select(llm_batches).where(llm_batches.c.status == "submitted").order_by(llm_batches.c.id)
    )
    return list(conn.execute(query))


def release_interrupted_submissions(conn: sa.Connection, started_before: datetime, now) -> int:
    """Batches left `submitting` by a tick that died between recording and submitting: their
    pairs wait for the next batch (if the provider did create it, its output is never read;
    at worst those calls are paid twice). Returns how many batches."""
    query = (
        sa.select(llm_batches.c.id)
        .where(llm_batches.c.status == "submitting")
        .where(llm_batches.c.submitted_at < started_before)
    )
    ids = list(conn.execute(query).scalars())
    for batch_id in ids:
        fail_batch(conn, batch_id, "submission interrupted", now, run_key=None)
    return len(ids)


def batch_pairs(conn: sa.Connection, batch_id: int) -> list[tuple[int, int]]:
    """The batch's pairs still waiting on it (not sent elsewhere), newest postings first."""
    query = (
        sa.select(llm_batch_pairs.c.user_id, llm_batch_pairs.c.job_id)
        .join(
            match_candidates,
            sa.and_(
                match_candidates.c.user_id == llm_batch_pairs.c.user_id,
                match_candidates.c.job_id == llm_batch_pairs.c.job_id,
            ),
        )
        .where(llm_batch_pairs.c.batch_id == batch_id)
        .where(match_candidates.c.run_key == f"{BATCH_RUN_KEY_PREFIX}{batch_id}")
        .order_by(llm_batch_pairs.c.job_id.desc(), llm_batch_pairs.c.user_id)
    )
    return [(row.user_id, row.job_id) for row in conn.execute(query)]


def mark_completed(conn: sa.Connection, batch_id: int, status, run_key: str, now) -> None:
    conn.execute(
        llm_batches.update()
        .where(llm_batches.c.id == batch_id)
        .values(
            status="completed",
            completed_count=status.completed,
            failed_count=status.failed,
            output_file_id=status.output_file_id,
            error_file_id=status.error_file_id,
            run_key=run_key,
            completed_at=now,
        )
    )


def fail_batch(
    conn: sa.Connection, batch_id: int, error: str, now, run_key: str | None = BATCH_FAILED
) -> int:
    """The batch failed (its reason recorded): its pairs go back to the instant path (or,
    with run_key None, wait for the next batch). Returns how many."""
    pairs = batch_pairs(conn, batch_id)
    conn.execute(
        llm_batches.update()
        .where(llm_batches.c.id == batch_id)
        .values(status="failed", error=error[:500], completed_at=now)
    )
    _set_run_key(conn, pairs, run_key)
    return len(pairs)


def send_to_instant_path(conn: sa.Connection, pairs: list[tuple[int, int]]) -> None:
    _set_run_key(conn, pairs, BATCH_FAILED)


def batch_row(conn: sa.Connection, batch_id: int) -> sa.Row | None:
    return conn.execute(sa.select(llm_batches).where(llm_batches.c.id == batch_id)).first()


def _set_run_key(conn: sa.Connection, pairs: list[tuple[int, int]], run_key: str | None) -> None:
    for part in chunks(pairs, 200):
        conn.execute(
            match_candidates.update()
            .where(sa.tuple_(match_candidates.c.user_id, match_candidates.c.job_id).in_(part))
            .values(run_key=run_key)
        )
