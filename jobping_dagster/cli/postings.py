"""`jobping import-csv`: jobspy CSV exports into the jobs table."""

from __future__ import annotations

from pathlib import Path

import click

from jobping_dagster.cli.context import app_engine, with_settings
from jobping_dagster.db.engine import utcnow
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.model import SiteScrape, format_reasons
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.store import save_raw_scrape, upsert_postings
from jobping_dagster.settings import Settings
from jobping_dagster.wording import plural


@click.command("import-csv")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@with_settings
def import_csv(settings: Settings, paths: tuple[str, ...]) -> None:
    """Load jobspy CSV exports into the jobs table.

    Either layout or quoting; each file is also kept as a raw scrape of today."""
    engine = app_engine(settings)
    now = utcnow()
    for path in paths:
        frame = read_jobspy_csv(path)
        result = normalize_frame(frame, today=now.date())
        with engine.begin() as conn:
            # Kept as a raw scrape of today, so today's partition can be rebuilt from it.
            save_raw_scrape(
                conn,
                day=now.date(),
                source=f"csv:{Path(path).name}"[:40],
                scrape=SiteScrape(site="csv", frame=frame),
                fetched_at=now,
            )
            stats = upsert_postings(conn, result.postings, day=now.date(), now=now)
        click.echo(
            f"{path}: {plural(result.rows_in, 'row')}, {result.accepted} accepted "
            f"({stats.inserted} new, {stats.updated} already known), "
            f"{plural(result.duplicates, 'duplicate')}, {result.rejected_total} rejected "
            f"({format_reasons(result.rejected)}); cleaned: {format_reasons(result.cleaned)}"
        )
