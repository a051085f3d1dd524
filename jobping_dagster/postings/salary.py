"""Pay from jobspy's salary columns, annualized, or nothing when it cannot be trusted."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from jobping_dagster.postings.cells import PLACEHOLDER_TEXT, as_text, is_missing
from jobping_dagster.postings.text import clean_inline

# Why an amount was emptied or changed (NormalizationResult.cleaned).
CLEANED_SALARY_NOT_POSITIVE = "salary_not_positive"
CLEANED_SALARY_NOT_FINITE = "salary_not_finite"
CLEANED_SALARY_UNREADABLE = "salary_unreadable"
CLEANED_SALARY_IMPLAUSIBLE = "salary_implausible"  # outside the annual range of its currency
CLEANED_SALARY_MIN_ABOVE_MAX = "salary_min_above_max"  # swapped, not emptied
CLEANED_SALARY_NO_INTERVAL = "salary_interval_unknown"  # an amount that cannot be annualized

ANNUAL_FACTORS = {"hourly": 2080, "daily": 260, "weekly": 52, "monthly": 12, "yearly": 1}
_INTERVAL_ALIASES = {
    "hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly",
    "year": "yearly", "annual": "yearly", "annually": "yearly",
}  # fmt: skip
# Pay bounds only make sense per currency; for the big Western ones an annual figure outside
# this range is a parsing accident (a yearly "50" or an hourly "50000").
_MAJOR_CURRENCIES = frozenset({"USD", "EUR", "GBP", "CAD", "AUD", "CHF", "NZD", "SGD"})
_MAJOR_ANNUAL_RANGE = (1_000.0, 5_000_000.0)
_ANY_ANNUAL_RANGE = (0.01, 1e11)
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}


def _amount(value: object, notes: set[str]) -> float | None:
    """A positive finite amount, or None; a present value that is not one is noted."""
    if is_missing(value):  # NaN is how pandas says "no amount": not an error
        return None
    if isinstance(value, bool | np.bool_):
        notes.add(CLEANED_SALARY_UNREADABLE)
        return None
    if isinstance(value, int | float | np.number):
        number = float(value)
    else:
        text = re.sub(r"[\s,$€£]", "", as_text(value)[:100]).casefold()
        if not text or text in PLACEHOLDER_TEXT:
            return None
        multiplier = 1000.0 if text.endswith("k") else 1.0
        try:
            number = float(text.removesuffix("k")) * multiplier
        except ValueError:
            notes.add(CLEANED_SALARY_UNREADABLE)
            return None
    if not math.isfinite(number):
        notes.add(CLEANED_SALARY_NOT_FINITE)
        return None
    if number <= 0:
        notes.add(CLEANED_SALARY_NOT_POSITIVE)
        return None
    return number


def _currency(value: object) -> str | None:
    text = as_text(value).strip().upper()
    text = _CURRENCY_SYMBOLS.get(text, text)
    return text if re.fullmatch(r"[A-Z]{3}", text) else None


def _interval(value: object) -> str | None:
    text = as_text(value).strip().casefold().removeprefix("per ")
    text = _INTERVAL_ALIASES.get(text, text)
    return text if text in ANNUAL_FACTORS else None


def _plausible_annual(amount: float | None, currency: str | None, notes: set[str]) -> float | None:
    if amount is None:
        return None
    low, high = _MAJOR_ANNUAL_RANGE if currency in _MAJOR_CURRENCIES else _ANY_ANNUAL_RANGE
    if not low <= amount <= high:
        notes.add(CLEANED_SALARY_IMPLAUSIBLE)
        return None
    return round(amount, 2)


def salary(
    record: dict[str, Any], notes: set[str]
) -> tuple[float | None, float | None, str | None, str | None]:
    """(annual min, annual max, currency, source); all None without a usable amount."""
    no_salary = None, None, None, None
    amounts = [_amount(record.get(column), notes) for column in ("min_amount", "max_amount")]
    if amounts == [None, None]:
        return no_salary
    interval = _interval(record.get("interval"))
    if interval is None:
        # Without an interval an amount cannot be annualized, and guessing misleads gates.
        notes.add(CLEANED_SALARY_NO_INTERVAL)
        return no_salary
    currency = _currency(record.get("currency"))
    factor = ANNUAL_FACTORS[interval]
    low, high = (
        _plausible_annual(None if amount is None else amount * factor, currency, notes)
        for amount in amounts
    )
    if low is None and high is None:
        return no_salary
    if low is not None and high is not None and low > high:
        # Two plausible bounds in the wrong columns: the range itself is clear, so it is
        # kept the right way round (and counted, as the board's data was wrong).
        notes.add(CLEANED_SALARY_MIN_ABOVE_MAX)
        low, high = high, low
    source = clean_inline(record.get("salary_source"), 40).casefold() or None
    return low, high, currency, source
