"""One day's candidate selection against the app database: read the day's postings and every
user's wishes, run the cascade, store the chosen pairs. Also the pull side: a user's best
unscored candidates among recent postings. Plain Python; the asset and CLI call it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import match_candidates, user_job_matches
from jobping_dagster.llm.models import WishProfile
from jobping_dagster.llm.usage import UsageLog
from jobping_dagster.matching.candidates import (
    candidate_jobs,
    chosen_pairs,
    save_chosen,
    users_with_prompt,
)
from jobping_dagster.matching.cascade import (
    CandidateUser,
    CascadeConfig,
    Selection,
    select_candidates,
)
from jobping_dagster.matching.gates import GateJob, gate_reason
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.relevance import job_text, relevance_matrix, wish_text
from jobping_dagster.matching.wishes import read_missing_wishes
from jobping_dagster.postings.recency import FAN_OUT_WINDOW


@dataclass(frozen=True)
class WishReader:
    # The LLM's reader: (prompt, usage log) -> wishes.
    read: Callable[[str, UsageLog], WishProfile]
    parser: str
    fallback: Callable[[str], WishProfile]
    concurrency: int = 4


@dataclass
class DaySelection:
    day: date
    postings: int
    users: int
    selection: Selection
    wishes_read: int
    wishes_fell_back: int


def select_day(
    engine: sa.Engine, day: date, reader: WishReader, config: CascadeConfig, now: datetime
) -> DaySelection:
    with engine.begin() as conn:  # begin: missing posting facts are saved on the way
        jobs = candidate_jobs(conn, day=day)
        prompts = users_with_prompt(conn)
    wishes, read_now, fell_back = read_missing_wishes(
        engine, prompts, reader.read, reader.parser, reader.fallback, now, reader.concurrency
    )
    users = [
        CandidateUser(user_id, prompt, prompt_hash(prompt), wishes[user_id])
        for user_id, prompt in prompts.items()
    ]
    with engine.begin() as conn:
        already = chosen_pairs(conn, [job.id for job in jobs])
        selection = select_candidates(users, jobs, config, already)
        hashes = {user.id: user.prompt_hash for user in users}
        save_chosen(conn, day, selection.chosen, hashes, now)
    return DaySelection(day, len(jobs), len(users), selection, read_now, fell_back)


@dataclass(frozen=True)
class PullCandidate:
    job_id: int
    title: str
    company: str
    relevance: float
    gate: str | None  # the wish it breaks, if any: shown, not hidden


def pull_candidates(
    engine: sa.Engine, user_id: int, prompt: str, wishes: WishProfile, now: datetime, limit: int
) -> list[PullCandidate]:
    """The user's best recent postings that were never chosen for them nor scored, by
    relevance: what the cascade left for the user to pull."""
    with engine.begin() as conn:
        jobs = candidate_jobs(conn, since=now - FAN_OUT_WINDOW)
        handled = set()
        for table in (match_candidates, user_job_matches):
            query = sa.select(table.c.job_id).where(table.c.user_id == user_id)
            handled.update(conn.execute(query).scalars())
    jobs = [job for job in jobs if job.id not in handled]
    if not jobs:
        return []
    scores = relevance_matrix(
        [wish_text(wishes, prompt)],
        [job_text(j.title, j.company, j.location, j.description) for j in jobs],
    )[0]
    ranked = sorted(range(len(jobs)), key=lambda index: -scores[index])[:limit]
    return [
        PullCandidate(
            job_id=jobs[index].id,
            title=jobs[index].title,
            company=jobs[index].company,
            relevance=round(float(scores[index]), 4),
            gate=gate_reason(
                wishes,
                GateJob.of(
                    jobs[index].facts, jobs[index].title, jobs[index].company, jobs[index].industry
                ),
            ),
        )
        for index in ranked
    ]
