"""Reading and writing postings and raw scrapes in the app database."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa

from jobping_dagster.db.schema import companies, jobs, raw_scrapes
from jobping_dagster.db.sql import chunks, insert_ignoring_conflicts
from jobping_dagster.postings.facts import posting_facts
from jobping_dagster.postings.model import Posting, SiteScrape
from jobping_dagster.postings.raw import frame_from_json, frame_to_json


@dataclass
class StoreStats:
    inserted: int = 0
    updated: int = 0  # seen before: last_seen_at moved on
    # Same job (company, title, location) already stored from another site or id.
    cross_site_duplicates: int = 0


def save_raw_scrape(
    conn: sa.Connection, *, day: date, source: str, scrape: SiteScrape, fetched_at: datetime
) -> None:
    conn.execute(
        raw_scrapes.insert().values(
            day=day,
            source=source,
            site=scrape.site,
            fetched_at=fetched_at,
            row_count=len(scrape.frame),
            error=scrape.error,
            payload=frame_to_json(scrape.frame),
        )
    )


def load_raw_scrapes(conn: sa.Connection, day: date) -> list[SiteScrape]:
    rows = conn.execute(
        sa.select(raw_scrapes.c.site, raw_scrapes.c.error, raw_scrapes.c.payload)
        .where(raw_scrapes.c.day == day)
        .order_by(raw_scrapes.c.id)
    )
    return [
        SiteScrape(site=row.site, frame=frame_from_json(row.payload), error=row.error)
        for row in rows
    ]


def upsert_postings(
    conn: sa.Connection, postings: list[Posting], *, day: date, now: datetime
) -> StoreStats:
    """Insert new postings, touch known ones. A posting is known by (site, source_id), or by
    its dedup key when another site already brought the same job."""
    stats = StoreStats()
    if not postings:
        return stats
    insert_ignoring_conflicts(
        conn,
        companies,
        ({"key": p.company_key, "name": p.company, "created_at": now} for p in postings),
        ["key"],
    )
    by_source, by_dedup = _existing_jobs(conn, postings)
    new_rows = []
    for posting in postings:
        existing = by_source.get((posting.site, posting.source_id)) or by_dedup.get(
            posting.dedup_key
        )
        if existing is None:
            new_rows.append(_job_row(posting, day, now))
            continue
        if (existing.site, existing.source_id) != (posting.site, posting.source_id):
            stats.cross_site_duplicates += 1
        values = {"last_seen_at": now}
        if not existing.description and posting.description:
            values["description"] = posting.description
        conn.execute(jobs.update().where(jobs.c.id == existing.id).values(**values))
        stats.updated += 1
    if new_rows:
        conn.execute(jobs.insert(), new_rows)
        stats.inserted = len(new_rows)
    return stats


def _existing_jobs(conn: sa.Connection, postings: list[Posting]):
    columns = [jobs.c.id, jobs.c.site, jobs.c.source_id, jobs.c.dedup_key, jobs.c.description]
    by_source, by_dedup = {}, {}
    for part in chunks(sorted({p.dedup_key for p in postings})):
        for row in conn.execute(sa.select(*columns).where(jobs.c.dedup_key.in_(part))):
            by_dedup[row.dedup_key] = row
    for part in chunks(sorted({p.source_id for p in postings})):
        for row in conn.execute(sa.select(*columns).where(jobs.c.source_id.in_(part))):
            by_source[(row.site, row.source_id)] = row
    return by_source, by_dedup


def _job_row(posting: Posting, day: date, now: datetime) -> dict:
    row = {k: v for k, v in asdict(posting).items() if k in jobs.c}
    row.update(first_seen_day=day, first_seen_at=now, last_seen_at=now)
    row["facts"] = posting_facts(posting).model_dump(mode="json")
    return row


def postings_frame(conn: sa.Connection, day: date) -> pd.DataFrame:
    """The stored postings first seen on `day`, for previews and checks."""
    query = (
        sa.select(
            jobs.c.id,
            jobs.c.site,
            jobs.c.source_id,
            jobs.c.title,
            jobs.c.company,
            jobs.c.company_key,
            jobs.c.location,
            jobs.c.is_remote,
            jobs.c.salary_min,
            jobs.c.salary_max,
            jobs.c.salary_currency,
            jobs.c.url,
        )
        .where(jobs.c.first_seen_day == day)
        .order_by(jobs.c.id)
    )
    return pd.DataFrame(conn.execute(query).mappings().all())
