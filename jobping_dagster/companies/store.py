"""Reading and writing company research in the app database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.companies.freshness import RESEARCH_MAX_AGE
from jobping_dagster.db.schema import companies, jobs
from jobping_dagster.llm.models import CompanyFacts, CompanyProfile
from jobping_dagster.postings.scoring_input import job_for_scoring
from jobping_dagster.retries import next_attempt_at


@dataclass(frozen=True)
class CompanyToResearch:
    key: str
    info_updated_at: datetime | None
    attempts: int


def companies_to_research(
    conn: sa.Connection, *, now: datetime, active_since: datetime, limit: int
) -> list[CompanyToResearch]:
    """Companies with a posting seen since `active_since` whose research is missing or older
    than six months: never tried, or failed and past their cool-down. Parked ones (failed
    for good) wait for an operator."""
    recent = sa.select(jobs.c.company_key).where(jobs.c.last_seen_at >= active_since)
    query = (
        sa.select(companies.c.key, companies.c.info_updated_at, companies.c.research_attempts)
        .where(companies.c.key.in_(recent))
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
    conn: sa.Connection, *, now: datetime, active_since: datetime
) -> list[str]:
    """Companies of recent postings whose research is older than six months."""
    recent = sa.select(jobs.c.company_key).where(jobs.c.last_seen_at >= active_since)
    query = (
        sa.select(companies.c.key)
        .where(companies.c.key.in_(recent))
        .where(companies.c.info_updated_at < now - RESEARCH_MAX_AGE)
        .order_by(companies.c.key)
    )
    return list(conn.execute(query).scalars())
