"""Reading and writing company research in the app database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE
from jobping_dagster.db.schema import companies, jobs, match_candidates, user_job_matches
from jobping_dagster.llm.models import CompanyFacts, CompanyProfile
from jobping_dagster.postings.scoring_input import job_for_scoring
from jobping_dagster.retries import next_attempt_at


@dataclass(frozen=True)
class CompanyToResearch:
    key: str
    info_updated_at: datetime | None
    attempts: int


# Today's and yesterday's postings may still be waiting for their day's selection (which
# runs again for them when a user joins): their companies are researched alongside it.
NEW_POSTING_DAYS = 2


@dataclass(frozen=True)
class MatchableWindow:
    """Which postings can still be matched, so their company's research is worth an LLM call.

    A posting qualifies when it was last seen since `seen_since` and either
    - a pair chosen for scoring is waiting for it (the fan-out waits for its company's
      research), or
    - it is new (first seen within NEW_POSTING_DAYS) and its board date is not older than
      `max_posting_age` before that day, so the selection may still choose it.
    An old CSV import (postings first seen today whose board date is months old) is neither:
    the selection never chooses such postings, so researching their companies is wasted."""

    seen_since: datetime
    max_posting_age: timedelta

    def company_keys(self, today: date) -> sa.Select:
        board_day = sa.func.coalesce(jobs.c.date_posted, jobs.c.first_seen_day)
        new_days = [today - timedelta(days=n) for n in range(NEW_POSTING_DAYS)]
        # Per day in Python: SQLite has no date arithmetic.
        still_selectable = sa.or_(
            *[
                sa.and_(jobs.c.first_seen_day == day, board_day >= day - self.max_posting_age)
                for day in new_days
            ]
        )
        scored = (
            sa.select(user_job_matches.c.id)
            .where(user_job_matches.c.user_id == match_candidates.c.user_id)
            .where(user_job_matches.c.job_id == match_candidates.c.job_id)
        )
        chosen_unscored = (
            sa.select(match_candidates.c.job_id)
            .where(match_candidates.c.job_id == jobs.c.id)
            .where(~scored.exists())
        )
        return (
            sa.select(jobs.c.company_key)
            .where(jobs.c.last_seen_at >= self.seen_since)
            .where(sa.or_(chosen_unscored.exists(), still_selectable))
        )


def companies_to_research(
    conn: sa.Connection, *, now: datetime, window: MatchableWindow, limit: int
) -> list[CompanyToResearch]:
    """Companies with a posting that can still be matched (see MatchableWindow) whose
    research is missing or older than six months: never tried, or failed and past their
    cool-down. Parked ones (failed for good) wait for an operator."""
    query = (
        sa.select(companies.c.key, companies.c.info_updated_at, companies.c.research_attempts)
        .where(companies.c.key.in_(window.company_keys(now.date())))
        .where(
            sa.or_(
                companies.c.info_updated_at.is_(None),
                companies.c.info_updated_at < now - RESEARCH_MAX_AGE,
            )
        )
        .where(
            sa.or_(
                companies.c.research_attempts == 0,
                companies.c.next_attempt_at <= now,
            )
        )
        .order_by(companies.c.created_at, companies.c.key)
        .limit(limit)
    )
    return [
        CompanyToResearch(row.key, row.info_updated_at, row.research_attempts)
        for row in conn.execute(query)
    ]


def load_company(conn: sa.Connection, key: str, max_postings: int = 5):
    """The company row and what the boards said about it, or None for an unknown key."""
    company = conn.execute(sa.select(companies).where(companies.c.key == key)).first()
    if company is None:
        return None, None
    postings = conn.execute(
        sa.select(jobs)
        .where(jobs.c.company_key == key)
        .order_by(jobs.c.id.desc())
        .limit(max_postings)
    ).all()
    fields: dict[str, str] = {}
    for posting in postings:
        for name, value in (posting.company_fields or {}).items():
            fields.setdefault(name, value)
    facts = CompanyFacts(
        key=key,
        name=company.name,
        fields=fields,
        postings=[job_for_scoring(posting) for posting in postings],
    )
    return company, facts


def save_company_info(
    conn: sa.Connection, key: str, profile: CompanyProfile, *, model: str, now: datetime
) -> None:
    conn.execute(
        companies.update()
        .where(companies.c.key == key)
        .values(
            info=profile.model_dump(mode="json"),
            info_updated_at=now,
            researched_by=model,
            research_attempts=0,
            last_error=None,
            next_attempt_at=None,
        )
    )


def record_research_failure(
    conn: sa.Connection, key: str, error: str, *, retryable: bool, now: datetime
) -> tuple[int, datetime | None]:
    """Counts the failed attempt and schedules the next; returns the attempt count and when
    the next attempt is due (None: parked)."""
    attempts = (
        1
        + conn.execute(
            sa.select(companies.c.research_attempts).where(companies.c.key == key)
        ).scalar_one()
    )
    next_at = next_attempt_at(attempts, retryable, now)
    conn.execute(
        companies.update()
        .where(companies.c.key == key)
        .values(research_attempts=attempts, last_error=error, next_attempt_at=next_at)
    )
    return attempts, next_at


def redrive_companies(conn: sa.Connection, now: datetime, keys: list[str] | None = None) -> int:
    """Makes failed research (parked or cooling down) due now with a fresh attempt count."""
    query = companies.update().where(companies.c.research_attempts > 0)
    if keys is not None:
        query = query.where(companies.c.key.in_(keys))
    return conn.execute(query.values(research_attempts=0, next_attempt_at=now)).rowcount


def stale_companies_in_use(
    conn: sa.Connection, *, now: datetime, window: MatchableWindow
) -> list[str]:
    """Companies with a posting that can still be matched whose research is older than six
    months."""
    query = (
        sa.select(companies.c.key)
        .where(companies.c.key.in_(window.company_keys(now.date())))
        .where(companies.c.info_updated_at < now - RESEARCH_MAX_AGE)
        .order_by(companies.c.key)
    )
    return list(conn.execute(query).scalars())
