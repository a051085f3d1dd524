"""Posting dates: absolute, relative ("3 days ago", "30d+") or garbage, checked against the
day of the scrape."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from jobping_dagster.postings.cells import PLACEHOLDER_TEXT, as_text, is_missing

# Why a date was resolved or emptied (NormalizationResult.cleaned).
CLEANED_DATE_RELATIVE = "date_relative_resolved"  # "3 days ago" -> a date (kept)
CLEANED_DATE_FUTURE = "date_in_future"
CLEANED_DATE_IMPOSSIBLE = "date_impossible"  # shaped like a date, but no such day
CLEANED_DATE_UNREADABLE = "date_unreadable"

_DATE_FORMATS = ("%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")
_ISO_DATE_PREFIX = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
# Numbers shaped like a date in one of _DATE_FORMATS: one that does not parse is no real day.
_NUMERIC_DATE = re.compile(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}")
# What boards and jobspy write instead of a date ("Posted 3 days ago", "30+ days ago",
# Glassdoor's "24h" and "30d+"); resolved against the day of the scrape.
_RELATIVE_DATE = re.compile(
    r"(?:(?:posted|reposted|active|updated)\s+)?"
    r"(?:(?P<today>today|just posted|just now|now|new|moments? ago)"
    r"|(?P<yesterday>yesterday)"
    r"|(?P<over>(?:over|more than)\s+)?(?P<count>\d{1,4}|an?|one)\s*(?P<plus>\+)?\s*"
    r"(?P<unit>minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|w|months?|mos?)\s*(?P<plus2>\+)?"
    r"(?:\s+ago)?)",
    re.IGNORECASE,
)


def parse_date(value: object, today: date, notes: set[str]) -> date | None:
    """A posting date, or None when missing, unreadable, impossible or in the future.

    `today` is the day of the scrape: relative phrases resolve against it, and a date more
    than a day after it (time zones) cannot be right. A readable old date is kept however
    old: matching's recency filter is what excludes it, and emptying it would let it pass.
    """
    day = _to_date(value, today, notes)
    if day is not None and day > today + timedelta(days=1):
        notes.add(CLEANED_DATE_FUTURE)
        return None
    return day


def _relative_date(text: str, today: date) -> date | None:
    match = _RELATIVE_DATE.fullmatch(text)
    if match is None:
        return None
    if match["today"]:
        return today
    if match["yesterday"]:
        return today - timedelta(days=1)
    count = match["count"].casefold()
    number = 1 if count in ("a", "an", "one") else int(count)
    unit = match["unit"].casefold()
    if unit.startswith("mo"):
        days = 30 * number
    elif unit.startswith(("mi", "h")):
        days = number // (24 * 60 if unit.startswith("mi") else 24)
    elif unit.startswith("w"):
        days = 7 * number
    else:
        days = number
    # "30+ days ago" and "over 30 days ago" mean more than 30 days: the newest date that is
    # true of it is a day further back, which also keeps it outside a 30-day window.
    if match["over"] or match["plus"] or match["plus2"]:
        days += 1
    return today - timedelta(days=days)


def _text_date(text: str, today: date, notes: set[str]) -> date | None:
    if match := _ISO_DATE_PREFIX.match(text):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:  # 2024-02-30, 2025-13-45
            notes.add(CLEANED_DATE_IMPOSSIBLE)
            return None
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    if _NUMERIC_DATE.fullmatch(text):  # 02/30/2024
        notes.add(CLEANED_DATE_IMPOSSIBLE)
        return None
    try:
        day = _relative_date(" ".join(text.split()), today)
    except OverflowError:  # "9999 months ago" from a scrape in year 5
        day = None
    notes.add(CLEANED_DATE_UNREADABLE if day is None else CLEANED_DATE_RELATIVE)
    return day


def _to_date(value: object, today: date, notes: set[str]) -> date | None:
    if is_missing(value):
        return None
    if isinstance(value, datetime):  # pd.Timestamp included
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    text = as_text(value).strip()
    if not text or text.casefold() in PLACEHOLDER_TEXT:
        return None
    if not isinstance(value, str):  # numbers are not dates: too ambiguous to guess
        notes.add(CLEANED_DATE_UNREADABLE)
        return None
    return _text_date(text, today, notes)
