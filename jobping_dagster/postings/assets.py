"""scraped_jobs: the postings first seen on each UTC day."""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import jobs
from jobping_dagster.markdown import markdown_table
from jobping_dagster.postings.model import NormalizationResult, SiteScrape, format_reasons
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.partitions import daily_partitions
from jobping_dagster.postings.sources import JobSource
from jobping_dagster.postings.store import (
    load_raw_scrapes,
    postings_frame,
    save_raw_scrape,
    upsert_postings,
)
from jobping_dagster.wording import plural

CHECK_REQUIRED_FIELDS = "postings_have_required_fields"
CHECK_NO_DUPLICATES = "postings_have_no_duplicate_urls"
CHECK_REJECT_RATE = "postings_reject_rate_below_bound"


class ScrapeConfig(dg.Config):
    max_reject_rate: float = 0.25


def build_scraped_jobs(partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The scraped_jobs asset over these days (the definitions pass the configured first
    day, postings/partitions.py); its checks are per day over the same days."""

    def day_check(name: str, description: str) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            name, asset="scraped_jobs", partitions_def=partitions_def, description=description
        )

    @dg.asset(
        partitions_def=partitions_def,
        group_name="postings",
        kinds={"python", "sql"},
        # Checked per day: a past day that cannot be rebuilt leaves today's results alone.
        check_specs=[
            day_check(
                CHECK_REQUIRED_FIELDS, "Every stored posting has a title, a company and a URL."
            ),
            day_check(CHECK_NO_DUPLICATES, "No two postings of the day share a URL."),
            day_check(
                CHECK_REJECT_RATE, "Rejected rows stay below the configured share of the scrape."
            ),
        ],
    )
    def scraped_jobs(
        context: dg.AssetExecutionContext,
        config: ScrapeConfig,
        app_db: AppDatabase,
        job_source: JobSource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Job postings first seen on each UTC day. Today's partition scrapes the job source
        (one call per board) and keeps the raw scrape; a past day is rebuilt from its raw
        scrape. Rows are cleaned, annualized and deduplicated into the `jobs` table; every
        rejected row is counted with its reason, and every field emptied, cut or stripped of
        markup too."""
        day = date.fromisoformat(context.partition_key)
        engine = app_db.engine()
        scrapes, origin = yield from _scrapes_of(day, engine, job_source)
        blocked = {s.site: s.error for s in scrapes if s.blocked}
        if scrapes and len(blocked) == len(scrapes):
            yield from _nothing_to_check(day, "every job board failed")
            raise dg.Failure(
                f"Every job board failed for {day}: "
                + "; ".join(f"{site}: {error}" for site, error in blocked.items()),
                metadata={"blocked_sites": blocked},
            )
        yield _store_day(context, day, engine, scrapes, origin, blocked, config.max_reject_rate)

    return scraped_jobs


# A default over all days since 2026-01-01 for code that materializes the asset on its own,
# as the tests do; the definitions build it from the configured first day.
daily_partitions_def = daily_partitions(date(2026, 1, 1))
scraped_jobs = build_scraped_jobs(daily_partitions_def)


def _scrapes_of(day: date, engine, job_source: JobSource):
    """The day's scrapes and where they come from: today's are fetched live and kept, a past
    day's are read back. A day without any yields its 'not checked' results and fails."""
    now = utcnow()
    if day > now.date():
        yield from _nothing_to_check(day, "the day is in the future")
        raise dg.Failure(
            f"{day} is in the future: nothing can have been seen then.", allow_retries=False
        )
    if day == now.date():
        scrapes = job_source.fetch(day)
        with engine.begin() as conn:
            for scrape in scrapes:
                save_raw_scrape(
                    conn, day=day, source=job_source.name, scrape=scrape, fetched_at=now
                )
        return scrapes, f"live scrape ({job_source.name})"
    with engine.connect() as conn:
        scrapes = load_raw_scrapes(conn, day)
    if not scrapes:
        yield from _nothing_to_check(day, "no raw scrape is stored for it")
        raise dg.Failure(
            f"No raw scrape is stored for {day}: a live job board cannot replay the past, "
            "so this day cannot be rebuilt. Only days JobPing scraped can be rerun.",
            allow_retries=False,
        )
    return scrapes, f"rebuilt from {plural(len(scrapes), 'stored raw scrape')}"


def _store_day(context, day, engine, scrapes, origin, blocked, max_reject_rate):
    """Normalizes and stores the day's rows; the materialization with its counts and checks."""
    now = utcnow()
    # The day of the scrape, also when rebuilding a past day: "yesterday" on a board means
    # the day before it was scraped, and a date after it cannot be true.
    result = normalize_frame(_combined(scrapes), today=day)
    with engine.begin() as conn:
        stats = upsert_postings(conn, result.postings, day=day, now=now)
        stored = postings_frame(conn, day)
        check_results = _check_results(conn, day, result, max_reject_rate)
    context.log.info(
        f"{day}: {plural(result.rows_in, 'row')} in, {result.accepted} accepted, "
        f"{result.rejected_total} rejected ({format_reasons(result.rejected)}), "
        f"{plural(stats.inserted, 'new posting')}; cleaned: {format_reasons(result.cleaned)}"
    )
    return dg.MaterializeResult(
        metadata={
            "origin": origin,
            "rows_in": result.rows_in,
            "accepted": result.accepted,
            "rejected": result.rejected_total,
            "rejected_by_reason": dict(result.rejected),
            # Accepted postings per reason a field was emptied, cut or stripped of markup
            # (the CLEANED_* names, see NormalizationResult.cleaned); the CSV import prints
            # the same names.
            "cleaned_by_reason": dict(sorted(result.cleaned.items())),
            "duplicates_in_scrape": result.duplicates,
            "duplicates_of_stored_postings": stats.cross_site_duplicates,
            "new_postings": stats.inserted,
            "already_known": stats.updated,
            "postings_first_seen_this_day": len(stored),
            "blocked_sites": blocked,
            "per_site": dg.MetadataValue.md(_per_site_table(result, scrapes)),
            "preview": dg.MetadataValue.md(_preview(stored)),
        },
        check_results=check_results,
    )


def _nothing_to_check(day: date, why: str) -> Iterator[dg.AssetCheckResult]:
    """A day without data has nothing to check: its checks pass and say why, so the day
    shows the asset's own failure rather than three checks whose execution failed."""
    for name in (CHECK_REQUIRED_FIELDS, CHECK_NO_DUPLICATES, CHECK_REJECT_RATE):
        yield dg.AssetCheckResult(
            check_name=name,
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"Not checked: no postings for {day} ({why}).",
            metadata={"checked": False, "reason": why},
        )


def _combined(scrapes: list[SiteScrape]) -> pd.DataFrame:
    # One frame for all boards, so the same job on two boards is deduplicated.
    frames = [s.frame for s in scrapes if len(s.frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _per_site_table(result: NormalizationResult, scrapes: list[SiteScrape]) -> str:
    rows = [
        {
            "site": site,
            "rows in": s.rows_in,
            "accepted": s.accepted,
            "rejected": s.rejected,
            "duplicates": s.duplicates,
        }
        for site, s in sorted(result.per_site.items())
    ]
    rows += [{"site": s.site, "rows in": 0, "error": s.error} for s in scrapes if s.blocked]
    return markdown_table(rows, ["site", "rows in", "accepted", "rejected", "duplicates", "error"])


def _preview(stored: pd.DataFrame) -> str:
    if stored.empty:
        return "_no postings first seen this day_"
    columns = ["site", "title", "company", "location", "is_remote", "salary_min", "salary_max"]
    return markdown_table(stored.head(10).to_dict("records"), columns)


def _check_results(
    conn: sa.Connection, day: date, result: NormalizationResult, max_reject_rate: float
) -> list[dg.AssetCheckResult]:
    of_day = jobs.c.first_seen_day == day
    missing = conn.execute(
        sa.select(sa.func.count())
        .where(of_day)
        .where(sa.or_(jobs.c.title == "", jobs.c.company == "", jobs.c.url == ""))
    ).scalar_one()
    duplicate_urls = conn.execute(
        sa.select(sa.func.count()).select_from(
            sa.select(jobs.c.url)
            .where(of_day)
            .group_by(jobs.c.url)
            .having(sa.func.count() > 1)
            .subquery()
        )
    ).scalar_one()
    reject_rate = result.rejected_total / result.rows_in if result.rows_in else 0.0
    return [
        dg.AssetCheckResult(
            check_name=CHECK_REQUIRED_FIELDS,
            passed=missing == 0,
            metadata={"postings_missing_fields": missing},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_NO_DUPLICATES,
            passed=duplicate_urls == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"duplicate_urls": duplicate_urls},
        ),
        dg.AssetCheckResult(
            check_name=CHECK_REJECT_RATE,
            passed=reject_rate <= max_reject_rate,
            metadata={
                "reject_rate": round(reject_rate, 4),
                "bound": max_reject_rate,
                "rejected_by_reason": dict(result.rejected),
            },
        ),
    ]
