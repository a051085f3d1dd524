"""Turn raw jobspy frames into clean Postings, accounting for every input row.

Plain Python and pandas (no Dagster), so it runs the same in assets, scripts and tests.
Scraped data is messy on purpose here: every cell may be missing, of the wrong type or
garbage. A bad row is rejected with a reason instead of raising (record.py); a bad field of
a good row (an unreadable date, an absurd salary, markup, a file:// URL, a megabyte of text)
is emptied, stripped or cut, and counted under a reason too (NormalizationResult.cleaned).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from datetime import date
from typing import Any

import pandas as pd

from jobping_dagster.postings.model import NormalizationResult, Posting, SiteStats
from jobping_dagster.postings.record import posting_from_record, site_name

# The 34 columns of a python-jobspy 1.4.1 frame, in its order.
JOBSPY_COLUMNS: tuple[str, ...] = (
    "id", "site", "job_url", "job_url_direct", "title", "company", "location", "date_posted",
    "job_type", "salary_source", "interval", "min_amount", "max_amount", "currency",
    "is_remote", "job_level", "job_function", "listing_type", "emails", "description",
    "company_industry", "company_url", "company_logo", "company_url_direct",
    "company_addresses", "company_num_employees", "company_revenue", "company_description",
    "skills", "experience_range", "company_rating", "company_reviews_count", "vacancy_count",
    "work_from_home_type",
)  # fmt: skip

# Safety net: a value nobody foresaw must cost one row, never the whole scrape.
REJECT_UNREADABLE_ROW = "unreadable_row"


def _records(frame: pd.DataFrame | None) -> Iterator[dict[str, Any]]:
    if frame is None:
        return
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"normalize_frame expects a pandas DataFrame, not {type(frame).__name__}")
    columns = [str(column) for column in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        yield dict(zip(columns, row, strict=True))


def _completeness(posting: Posting) -> tuple[bool, bool]:
    """Which copy of a duplicated job to keep: one with a description, then a direct URL."""
    return bool(posting.description), bool(posting.url_direct)


def _drop_duplicates(
    postings: list[Posting],
    key: Callable[[Posting], Hashable],
    result: NormalizationResult,
) -> list[Posting]:
    """Keep the most complete posting per key (the first on ties); count the others."""
    kept: list[Posting] = []
    slot_by_key: dict[Hashable, int] = {}
    for posting in postings:
        slot = slot_by_key.get(key(posting))
        if slot is None:
            slot_by_key[key(posting)] = len(kept)
            kept.append(posting)
            continue
        dropped = posting
        if _completeness(posting) > _completeness(kept[slot]):
            dropped, kept[slot] = kept[slot], posting
        result.duplicates += 1
        result.per_site[dropped.site].duplicates += 1
    return kept


def normalize_frame(
    frame: pd.DataFrame,
    *,
    max_description_chars: int = 20_000,
    today: date | None = None,
) -> NormalizationResult:
    """Clean a jobspy-shaped frame (any layout, any subset of columns) into Postings.

    Every row ends up accepted, rejected under a reason, or dropped as a duplicate: first of
    another row with the same (site, source_id), then of one with the same dedup_key, so the
    same job seen on two boards (or reposted on one) is kept once.
    """
    today = today or date.today()
    result = NormalizationResult()
    candidates: list[Posting] = []
    notes_by_posting: dict[int, set[str]] = {}  # id(posting): Posting holds a dict, no hash
    for record in _records(frame):
        site = site_name(record.get("site"))
        stats = result.per_site.setdefault(site, SiteStats())
        stats.rows_in += 1
        result.rows_in += 1
        try:
            outcome = posting_from_record(record, site, max_description_chars, today)
        except Exception:  # see REJECT_UNREADABLE_ROW
            outcome = REJECT_UNREADABLE_ROW
        if isinstance(outcome, str):
            result.rejected[outcome] += 1
            stats.rejected += 1
        else:
            posting, notes = outcome
            candidates.append(posting)
            notes_by_posting[id(posting)] = notes

    unique = _drop_duplicates(candidates, lambda posting: (posting.site, posting.source_id), result)
    result.postings = _drop_duplicates(unique, lambda posting: posting.dedup_key, result)
    for posting in result.postings:
        result.per_site[posting.site].accepted += 1
        # Counted for the postings kept, so the figures describe what is stored.
        result.cleaned.update(notes_by_posting[id(posting)])
    return result
