"""One jobspy row (a dict of cells) into a Posting, or the reason it is rejected.

A row without a title, a company or a web URL is rejected; any other bad field is emptied,
stripped or cut, and noted under a reason (the CLEANED_* names of the modules it uses).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import numpy as np

from jobping_dagster.postings.cells import as_text, is_missing
from jobping_dagster.postings.dates import parse_date
from jobping_dagster.postings.description import clean_description
from jobping_dagster.postings.keys import company_key, dedup_key, source_id_from_url
from jobping_dagster.postings.model import Posting
from jobping_dagster.postings.salary import salary
from jobping_dagster.postings.text import TRUNCATED, clean_inline
from jobping_dagster.postings.urls import clean_url, is_web_url, web_url_or_none

REJECT_MISSING_TITLE = "missing_title"
REJECT_MISSING_COMPANY = "missing_company"
REJECT_MISSING_URL = "missing_url"
REJECT_INVALID_URL = "invalid_url"

CLEANED_URL_DIRECT_DROPPED = "url_direct_dropped"  # not an http(s) URL
CLEANED_COMPANY_URL_DROPPED = "company_url_dropped"

UNKNOWN_SITE = "unknown"
MAX_TITLE_CHARS = 300
MAX_COMPANY_CHARS = 300
MAX_LOCATION_CHARS = 300
MAX_COMPANY_FIELD_CHARS = 2000
MAX_JOB_TYPE_CHARS = 200

# Where each company fact comes from: key in Posting.company_fields -> jobspy column.
COMPANY_FIELD_COLUMNS = {
    "industry": "company_industry",
    "url": "company_url",
    "url_direct": "company_url_direct",
    "num_employees": "company_num_employees",
    "revenue": "company_revenue",
    "description": "company_description",
    "addresses": "company_addresses",
}
_MULTILINE_COMPANY_FIELDS = frozenset({"description", "addresses"})
_URL_COMPANY_FIELDS = frozenset({"url", "url_direct"})

_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
_JOB_TYPE_ALIASES = {"contractor": "contract", "intern": "internship", "temp": "temporary"}
_REMOTE_WORD = re.compile(r"\bremote\b", re.IGNORECASE)
_ON_SITE_WORDS = re.compile(r"\b(?:hybrid|office|on-?site)\b", re.IGNORECASE)


def site_name(value: object) -> str:
    site = clean_inline(value, 40).casefold().replace(" ", "_")
    return site or UNKNOWN_SITE


def _remote_flag(value: object) -> bool | None:
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return bool(value) if value in (0, 1) else None
    text = as_text(value).strip().casefold()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


def _is_remote(record: dict[str, Any], title: str, location: str | None) -> bool | None:
    flag = _remote_flag(record.get("is_remote"))
    if flag is not None:
        return flag
    work_from_home = clean_inline(record.get("work_from_home_type"), 100)
    if _REMOTE_WORD.search(" ".join((title, location or "", work_from_home))):
        return True
    if _ON_SITE_WORDS.search(work_from_home):
        return False
    return None


def _job_type(value: object, notes: set[str]) -> str | None:
    """ "Full-Time / part time" -> "fulltime, parttime" (jobspy's own spelling)."""
    job_types: list[str] = []
    for part in re.split(r"[,;/|]", as_text(value)[:10_000]):
        word = re.sub(r"[^a-z0-9]", "", part.casefold()).removeprefix("jobtype")
        word = _JOB_TYPE_ALIASES.get(word, word)[:30]
        if word and word not in job_types:
            if len(", ".join([*job_types, word])) > MAX_JOB_TYPE_CHARS:
                notes.add(TRUNCATED.format(field="job_type"))
                break
            job_types.append(word)
    return ", ".join(job_types) or None


def _company_fields(record: dict[str, Any], notes: set[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, column in COMPANY_FIELD_COLUMNS.items():
        raw = record.get(column)
        if name in _URL_COMPANY_FIELDS:
            value = web_url_or_none(raw, notes, CLEANED_COMPANY_URL_DROPPED) or ""
        elif name in _MULTILINE_COMPANY_FIELDS:
            value = clean_description(raw, MAX_COMPANY_FIELD_CHARS, notes, "company_fields")
        else:
            value = clean_inline(raw, MAX_COMPANY_FIELD_CHARS, notes, "company_fields")
        if value:
            fields[name] = value
    return fields


def posting_from_record(
    record: dict[str, Any], site: str, max_description_chars: int, today: date
) -> tuple[Posting, set[str]] | str:
    """A Posting and why its fields were cleaned (CLEANED_*), or the reason the row is
    rejected."""
    notes: set[str] = set()
    # A title or company that was only markup ("<img onerror=...>") is missing.
    title = clean_inline(record.get("title"), MAX_TITLE_CHARS, notes, "title")
    if not title:
        return REJECT_MISSING_TITLE
    company = clean_inline(record.get("company"), MAX_COMPANY_CHARS, notes, "company")
    if not company:
        return REJECT_MISSING_COMPANY
    url = clean_url(record.get("job_url"))
    if not url:
        return REJECT_MISSING_URL
    if not is_web_url(url):
        return REJECT_INVALID_URL

    location = clean_inline(record.get("location"), MAX_LOCATION_CHARS, notes, "location") or None
    salary_min, salary_max, salary_currency, salary_source = salary(record, notes)
    posting = Posting(
        site=site,
        source_id=(
            clean_inline(record.get("id"), 200, notes, "source_id") or source_id_from_url(url)
        ),
        dedup_key=dedup_key(company, title, location),
        url=url,
        title=title,
        company=company,
        company_key=company_key(company),
        description=clean_description(
            record.get("description"), max_description_chars, notes, "description"
        ),
        url_direct=web_url_or_none(record.get("job_url_direct"), notes, CLEANED_URL_DIRECT_DROPPED),
        location=location,
        is_remote=_is_remote(record, title, location),
        date_posted=parse_date(record.get("date_posted"), today, notes),
        job_type=_job_type(record.get("job_type"), notes),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=salary_currency,
        salary_source=salary_source,
        company_fields=_company_fields(record, notes),
    )
    return posting, notes
