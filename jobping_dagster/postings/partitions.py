"""The days of scraped_jobs (and of match_candidates, which follows them): from a fixed first
day to today. A first day that moved with the calendar would change the partitions
definition every day; Dagster keys its cached partition status and its backfills to that
definition, and refuses a run for a day that left it."""

import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import dagster as dg

from jobping_dagster.settings import InvalidConfiguration

# Under JOBPING_HOME: the first day, recorded when JobPing's definitions are first built
# there (the install), so days before it do not show as missing.
FIRST_DAY_FILE = "scrape-start-date"


def daily_partitions(first_day: date) -> dg.DailyPartitionsDefinition:
    # end_offset=1 makes today's partition exist, so the hourly schedule can refresh it.
    return dg.DailyPartitionsDefinition(start_date=first_day.isoformat(), end_offset=1)


def scrape_first_day(configured: date | None, home: Path, today: date) -> date:
    """JOBPING_SCRAPE_START_DATE when set, else the day recorded under home (today, the
    first time)."""
    return configured or recorded_first_day(home / FIRST_DAY_FILE, today)


def recorded_first_day(path: Path, today: date) -> date:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_text(f"{today.isoformat()}\n")
        try:
            # Atomic: of processes building the definitions at once, the first one wins.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    text = path.read_text().strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidConfiguration(
            f"{path} holds {text[:40]!r}, not a date as YYYY-MM-DD "
            "(fix it, or set JOBPING_SCRAPE_START_DATE)"
        ) from None


def with_partitions(
    assets: Iterable[dg.AssetsDefinition], partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    """The assets, partitioned by `partitions` instead of the definition in their module."""
    return [
        asset.map_asset_specs(lambda spec: spec.replace_attributes(partitions_def=partitions))
        for asset in assets
    ]
