"""The app database side of candidate selection and fan-out: which users and postings a
day's selection considers, the pairs it chose, and which of those still need a partition,
a run again, or retention. No AI here; the decisions themselves are in `cascade.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
from jobping_dagster.db.sql import chunks, insert_ignoring_conflicts
from jobping_dagster.matching.cascade import KEPT, SHADOW, CandidateJob, Chosen
from jobping_dagster.matching.recall import ScoredCandidate
from jobping_dagster.postings.facts import PostingFacts, posting_facts

# A posting whose board date is older than this is not worth an alert.
MAX_POSTING_AGE = timedelta(days=30)

# A user is matched only with a non-blank prompt.
PROMPT_LENGTH = sa.func.length(sa.func.trim(sa.func.coalesce(users.c.prompt, "")))


def users_with_prompt(conn: sa.Connection) -> dict[int, str]:
    """Active users with a prompt: id -> prompt."""
    query = (
        sa.select(users.c.id, users.c.prompt)
        .where(users.c.active.is_(True))
        .where(PROMPT_LENGTH > 0)
        .order_by(users.c.id)
    )
    return {row.id: row.prompt for row in conn.execute(query)}


def users_without_prompt(conn: sa.Connection) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(users.c.active.is_(True))
        .where(PROMPT_LENGTH == 0)
    )
    return conn.execute(query).scalar_one()


def candidate_jobs(
    conn: sa.Connection, *, day: date | None = None, since: datetime | None = None
) -> list[CandidateJob]:
    """Postings first seen on `day` (or last seen since `since`) whose board date is not
    older than MAX_POSTING_AGE, with their facts. Facts missing from rows stored before
    facts existed are read now and saved."""
    query = (
        sa.select(jobs, companies.c.info)
        .join(companies, companies.c.key == jobs.c.company_key)
        .order_by(jobs.c.id)
    )
    if day is not None:
        query = query.where(jobs.c.first_seen_day == day)
        oldest = day - MAX_POSTING_AGE
    else:
        query = query.where(jobs.c.last_seen_at >= since)
        oldest = since.date() - MAX_POSTING_AGE
    # No board date (missing or unreadable): the day JobPing first saw it is the honest one.
    query = query.where(sa.func.coalesce(jobs.c.date_posted, jobs.c.first_seen_day) >= oldest)
    found = []
    for row in conn.execute(query):
        if row.facts is None:
            facts = posting_facts(row)
            conn.execute(
                jobs.update().where(jobs.c.id == row.id).values(facts=facts.model_dump(mode="json"))
            )
        else:
            facts = PostingFacts.model_validate(row.facts)
        industry = (row.info or {}).get("industry") or (row.company_fields or {}).get("industry")
        found.append(
            CandidateJob(
                id=row.id,
                title=row.title,
                company=row.company,
                location=row.location,
                description=row.description,
                facts=facts,
                industry=industry,
            )
        )
    return found


def chosen_pairs(conn: sa.Connection, job_ids: list[int]) -> dict[tuple[int, int], str]:
    """(user id, job id) -> decision of the pairs already chosen for these postings."""
    found = {}
    for part in chunks(sorted(job_ids)):
        query = sa.select(
            match_candidates.c.user_id, match_candidates.c.job_id, match_candidates.c.decision
        ).where(match_candidates.c.job_id.in_(part))
        for row in conn.execute(query):
            found[(row.user_id, row.job_id)] = row.decision
    return found


def save_chosen(
    conn: sa.Connection,
    day: date,
    chosen: list[Chosen],
    prompt_hashes: dict[int, str],
    now: datetime,
) -> None:
    """Idempotent: a pair chosen before keeps its first decision."""
    insert_ignoring_conflicts(
        conn,
        match_candidates,
        (
            {
                "user_id": c.user_id,
                "job_id": c.job_id,
                "day": day,
                "decision": c.decision,
                "relevance": c.relevance,
                "weight": c.weight,
                "prompt_hash": prompt_hashes[c.user_id],
                "created_at": now,
            }
            for c in chosen
        ),
        ["user_id", "job_id"],
    )


# ---------------------------------------------------------------------------------------------
# Fan-out: chosen pairs -> pair partitions and runs


# The run key of a pair sent back to the fan-out to run again: its partition is deleted in
# one tick and added again, after every other key, in a later one (Dagster refuses both in
# one tick), so the pairs retried together form one partition range.
RETRY_PENDING = "retry-pending"


@dataclass(frozen=True)
class PairToFanOut:
    user_id: int
    job_id: int
    retry: bool  # sent back to run again (its old partition must be gone first)


def pairs_to_fan_out(conn: sa.Connection, now: datetime, limit: int) -> list[PairToFanOut]:
    """Chosen pairs without a partition whose company research is fresh (the scorer reads
    it): pairs sent back to run again first, then the newest postings."""
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
    query = (
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
    due = []
    for row in conn.execute(query):
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


def companies_chosen_for(conn: sa.Connection, user_id: int) -> list[str]:
    """Companies of the postings chosen for this user: their research gates the user's pairs."""
    query = (
        sa.select(jobs.c.company_key)
        .join(match_candidates, match_candidates.c.job_id == jobs.c.id)
        .where(match_candidates.c.user_id == user_id)
        .distinct()
    )
    return list(conn.execute(query).scalars())


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


def scored_candidates(conn: sa.Connection, since: date) -> list[ScoredCandidate]:
    """Kept and shadow pairs of the days since `since` that have a score: a hit is a score
    at or above the user's threshold when it was scored."""
    query = (
        sa.select(
            match_candidates.c.user_id,
            match_candidates.c.decision,
            match_candidates.c.weight,
            user_job_matches.c.score,
            user_job_matches.c.notify_threshold,
        )
        .join(
            user_job_matches,
            sa.and_(
                user_job_matches.c.user_id == match_candidates.c.user_id,
                user_job_matches.c.job_id == match_candidates.c.job_id,
            ),
        )
        .where(match_candidates.c.day >= since)
        .where(match_candidates.c.decision.in_([KEPT, SHADOW]))
    )
    return [
        ScoredCandidate(row.user_id, row.decision, row.weight, row.score >= row.notify_threshold)
        for row in conn.execute(query)
    ]
