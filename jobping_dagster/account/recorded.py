"""The day's counts that live only in the assets' run metadata: rows the scrape rejected,
by reason (summed over the day's scrapes), and the pairs the selection considered and
gated (its latest run of the day: each run counts the whole day)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import dagster as dg

from jobping_dagster.account.daily import Recorded

MAX_RUNS_READ = 200


def recorded_counts(instance: dg.DagsterInstance, day: date) -> Recorded:
    rejected: Counter | None = None
    for metadata in _materializations(instance, "scraped_jobs", day):
        reasons = metadata.get("rejected_by_reason")
        if reasons is not None:
            rejected = (rejected or Counter()) + Counter(reasons.value)
    selections = _materializations(instance, "match_candidates", day, limit=1)
    latest = selections[0] if selections else {}
    return Recorded(
        rejected_by_reason=dict(rejected) if rejected is not None else None,
        pairs_considered=_number(latest.get("pairs_considered")),
        pairs_gated=_number(latest.get("gated")),
    )


def _materializations(
    instance: dg.DagsterInstance, asset: str, day: date, limit: int = MAX_RUNS_READ
) -> list[dict]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day.isoformat()]),
        limit=limit,
    ).records
    return [record.asset_materialization.metadata for record in records]


def _number(value) -> int | None:
    return int(value.value) if value is not None else None
