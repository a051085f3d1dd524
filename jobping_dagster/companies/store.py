"""Reading and writing company research in the app database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.companies.freshness import MAX_AUTOMATIC_ATTEMPTS, RESEARCH_MAX_AGE
from jobping_dagster.db.schema import companies, jobs
from jobping_dagster.llm.models import CompanyFacts, CompanyProfile
from jobping_dagster.matching.inputs import job_for_scoring


@dataclass(frozen=True)
class CompanyToResearch:
    key: str
    info_updated_at: datetime | None
    attempts: int


def companies_to_research(
    conn: sa.Connection, *, now: datetime, active_since: datetime, limit: int
) -> list[CompanyToResearch]:
    """Companies with a posting seen since `active_since` whose research is missing or older
    than six months, leaving out those that failed too often (they wait for an operator)."""
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
        .where(companies.c.research_attempts < MAX_AUTOMATIC_ATTEMPTS)
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
        )
    )


def record_research_failure(conn: sa.Connection, key: str, error: str) -> int:
    """Counts the failed attempt; returns the attempt count."""
    conn.execute(
        companies.update()
        .where(companies.c.key == key)
        .values(research_attempts=companies.c.research_attempts + 1, last_error=error)
    )
    return conn.execute(
        sa.select(companies.c.research_attempts).where(companies.c.key == key)
    ).scalar_one()


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
