"""Plain data types for job postings, shared by normalization, sources and storage."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pandas as pd


@dataclass(frozen=True)
class Posting:
    """One cleaned job posting, ready to store in the `jobs` table."""

    site: str
    source_id: str  # stable id within the site (jobspy `id`, or derived from the URL)
    dedup_key: str  # company|title|location, normalized: the same job seen on two sites
    url: str
    title: str
    company: str
    company_key: str  # short slug naming the company; the company_info partition key
    description: str  # cleaned markdown, possibly empty, bounded in size
    url_direct: str | None = None
    location: str | None = None
    is_remote: bool | None = None
    date_posted: date | None = None
    job_type: str | None = None  # e.g. "fulltime, contract"
    salary_min: float | None = None  # annualized
    salary_max: float | None = None  # annualized
    salary_currency: str | None = None
    salary_source: str | None = None  # "direct_data" or "description" (guessed by jobspy)
    # What the board said about the company (industry, url, num_employees, revenue,
    # description, addresses): input for company research.
    company_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class SiteStats:
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0


@dataclass
class NormalizationResult:
    """Postings accepted from one or more raw frames, and an account of every other row."""

    postings: list[Posting] = field(default_factory=list)
    rows_in: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> count
    # reason -> accepted postings with a field emptied, cut or stripped for that reason
    # (the CLEANED_* names of postings/text, description, dates, salary and record, and
    # "<field>_truncated"); operators see it next to `rejected`.
    cleaned: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # rows dropped as a repeat of an accepted posting
    per_site: dict[str, SiteStats] = field(default_factory=dict)

    @property
    def accepted(self) -> int:
        return len(self.postings)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def format_reasons(counts: Counter[str]) -> str:
    """ "date_unreadable 2, markup_stripped 1" (most frequent first), or "none"."""
    return ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) or "none"


@dataclass
class SiteScrape:
    """What one job board returned for one call: a raw jobspy-shaped frame, or an error."""

    site: str
    frame: pd.DataFrame
    error: str | None = None  # jobspy `attrs["errors"][site]`: blocked, not merely empty
    warnings: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.error is not None
