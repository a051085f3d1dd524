"""The app database side of candidate selection: which users and postings a day's selection
considers, and the pairs it chose. No AI here; the decisions themselves are in `cascade.py`.
What becomes of a chosen pair in Dagster (partition, runs, retention) is `pair_partitions.py`."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import (
    companies,
    jobs,
    match_candidates,
    user_job_matches,
    users,
)
from jobping_dagster.db.sql import chunks, insert_ignoring_conflicts
from jobping_dagster.matching.cascade import KEPT, SHADOW, CandidateJob, Chosen
from jobping_dagster.matching.recall import ScoredCandidate
from jobping_dagster.postings.facts import PostingFacts, posting_facts
from jobping_dagster.postings.recency import MAX_POSTING_AGE

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


def companies_chosen_for(conn: sa.Connection, user_id: int) -> list[str]:
    """Companies of the postings chosen for this user: their research gates the user's pairs."""
    query = (
        sa.select(jobs.c.company_key)
        .join(match_candidates, match_candidates.c.job_id == jobs.c.id)
        .where(match_candidates.c.user_id == user_id)
        .distinct()
    )
    return list(conn.execute(query).scalars())


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
