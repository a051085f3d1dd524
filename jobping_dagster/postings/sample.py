"""A bundled, fictional day of scraped postings, for demos and tests without job boards.

sample_jobs.json holds postings in jobspy's column layout with `days_ago` instead of a date,
and the company facts once per company; this module turns them into jobspy-shaped frames.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources
from typing import Any

import pandas as pd

from jobping_dagster.postings.normalize import JOBSPY_COLUMNS

SAMPLE_FILE = "sample_jobs.json"
_ID_PREFIX = {"indeed": "in", "linkedin": "li"}


def load_sample_document() -> dict[str, Any]:
    """The parsed sample file: {"about": ..., "companies": {...}, "postings": [...]}."""
    text = resources.files(__package__).joinpath(SAMPLE_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def _default_job_url(site: str, number: int) -> str:
    if site == "linkedin":
        return f"https://www.linkedin.com/jobs/view/sample-{number:04d}"
    return f"https://www.indeed.com/viewjob?jk=sample{number:04d}"


def _jobspy_row(
    number: int, posting: dict[str, Any], companies: dict[str, dict[str, Any]], day: date
) -> dict[str, Any]:
    site = posting["site"]
    row: dict[str, Any] = dict.fromkeys(JOBSPY_COLUMNS)
    row.update(companies.get(posting.get("company") or "", {}))
    row.update({key: value for key, value in posting.items() if key in row})
    # Ids follow the row's place in the file, so they are stable from one load to the next.
    row["id"] = f"{_ID_PREFIX.get(site, site)}-sample-{number:04d}"
    if "job_url" not in posting:  # an explicit null is a deliberately broken row
        row["job_url"] = _default_job_url(site, number)
    row["date_posted"] = day - timedelta(days=int(posting["days_ago"]))
    has_pay = row["min_amount"] is not None or row["max_amount"] is not None
    if has_pay and row["salary_source"] is None:
        row["salary_source"] = "direct_data"  # what jobspy writes when a board states the pay
    return row


def load_sample_frame(day: date) -> dict[str, pd.DataFrame]:
    """One jobspy-shaped frame per site, as if scraped on `day`."""
    document = load_sample_document()
    rows_by_site: dict[str, list[dict[str, Any]]] = {}
    for number, posting in enumerate(document["postings"], start=1):
        row = _jobspy_row(number, posting, document["companies"], day)
        rows_by_site.setdefault(row["site"], []).append(row)
    return {
        site: pd.DataFrame(rows, columns=list(JOBSPY_COLUMNS))
        for site, rows in rows_by_site.items()
    }
