"""Small builders for test data in the app database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.companies.store import save_company_info
from jobping_dagster.db.schema import (
    companies,
    match_candidates,
    notifications,
    user_job_matches,
    users,
)
from jobping_dagster.llm.models import CompanyProfile
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.postings.model import Posting
from jobping_dagster.postings.store import upsert_postings
from jobping_dagster.run_once import apply_partition_requests
from jobping_dagster.users.store import UserChanges, add_user


def posting(n: int, company: str = "Acme", title: str = "Backend Engineer", **extra) -> Posting:
    key = company.lower().replace(" ", "-")
    values = dict(
        site="indeed",
        source_id=f"in-{n:05d}",
        dedup_key=f"{key}|{title.lower()} {n}|remote",
        url=f"https://jobs.example.com/{n}",
        title=f"{title} {n}",
        company=company,
        company_key=key,
        description=f"Build things with Python. Posting {n}.",
        location="Remote",
        is_remote=True,
    )
    values.update(extra)
    return Posting(**values)


def store_postings(engine: sa.Engine, postings: list[Posting], now: datetime) -> None:
    with engine.begin() as conn:
        upsert_postings(conn, postings, day=now.date(), now=now)


def research(engine: sa.Engine, key: str, at: datetime) -> None:
    profile = CompanyProfile(
        summary=f"{key} builds software.",
        industry="Software",
        size=None,
        headquarters=None,
        website=None,
        culture=[],
        red_flags=[],
    )
    with engine.begin() as conn:
        save_company_info(conn, key, profile, model="test", now=at)


def company_row(engine: sa.Engine, key: str):
    with engine.connect() as conn:
        return conn.execute(sa.select(companies).where(companies.c.key == key)).one()


def user(
    engine: sa.Engine,
    email: str,
    prompt: str | None = "python backend",
    allowed_hosts=(),
    **changes,
) -> int:
    with engine.begin() as conn:
        return add_user(conn, email, UserChanges(prompt=prompt or "", **changes), allowed_hosts)


def days_ago(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def age_partitions(engine, by: timedelta):
    """Moves every pair's partition back in time (in Python: SQLite has no date arithmetic)."""
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(
                match_candidates.c.user_id,
                match_candidates.c.job_id,
                match_candidates.c.partition_added_at,
            ).where(match_candidates.c.partition_added_at.is_not(None))
        ).all()
        for row in rows:
            conn.execute(
                match_candidates.update()
                .where(
                    match_candidates.c.user_id == row.user_id,
                    match_candidates.c.job_id == row.job_id,
                )
                .values(partition_added_at=row.partition_added_at - by)
            )


def evaluate_sensor(sensor, instance, resources: dict, cursor=None, definitions=None):
    """One tick as the daemon evaluates it (results checked, run requests resolved), with its
    dynamic partition requests applied; returns the tick's result."""
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=resources, definitions=definitions
    )
    result = sensor.evaluate_tick(context)
    apply_partition_requests(instance, result.dynamic_partitions_requests)
    return result


def scored_match(
    engine: sa.Engine,
    user_id: int,
    job_id: int,
    score: int,
    notified_status: str | None = None,
    **analysis,
) -> int:
    """A stored match (and, with `notified_status`, its notification); returns its id."""
    now = datetime.now(UTC).replace(tzinfo=None)
    values = {
        "explanation": f"Scored {score}.",
        "pros": ["python"],
        "cons": ["on call"],
        "recommendation": "apply" if score >= 70 else "skip",
        **analysis,
    }
    with engine.begin() as conn:
        prompt = conn.execute(sa.select(users.c.prompt).where(users.c.id == user_id)).scalar()
        match_id = conn.execute(
            user_job_matches.insert().values(
                user_id=user_id,
                job_id=job_id,
                partition_key=pair_key(user_id, job_id),
                score=score,
                analysis=values,
                model="test",
                prompt_version="test",
                user_prompt_hash=prompt_hash(prompt or ""),
                notify_threshold=70,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        if notified_status is not None:
            conn.execute(
                notifications.insert().values(
                    match_id=match_id,
                    user_id=user_id,
                    job_id=job_id,
                    score=score,
                    message=f"{score}/100",
                    payloads={},
                    status=notified_status,
                    channel="table" if notified_status == "recorded" else "discord",
                    created_at=now,
                )
            )
    return match_id
