"""Salary amounts in free text: the floor a prompt names, with its currency."""

from __future__ import annotations

import re

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORDS = {
    **dict.fromkeys(("usd", "dollar", "dollars"), "USD"),
    **dict.fromkeys(("eur", "euro", "euros"), "EUR"),
    **dict.fromkeys(("gbp", "pound", "pounds"), "GBP"),
    **{code: code.upper() for code in ("chf", "cad", "aud")},
}
_SALARY = re.compile(
    r"(?P<symbol>[$€£])?\s?"
    r"(?<![\w.,])(?P<number>\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<k>k|thousand)\b)?"
    r"(?:\s?(?P<word>usd|eur|euros?|gbp|pounds?|dollars?|chf|cad|aud)\b)?"
    r"(?:\s?(?:/|per|an?)\s?(?P<unit>h|hr|hour|month|mo)\b)?",
)
_RANGE_DASH = re.compile(r"^\s?(?:-|–|to)\s?")


def extract_salary(text: str) -> tuple[float | None, str | None, str]:
    """The lowest salary-looking amount (the floor), its currency, and the text without
    the amounts. An amount needs a 'k', a currency, or five digits: '5+ years' is not pay."""
    amounts: list[tuple[float, str | None]] = []
    spans: list[tuple[int, int]] = []
    matches = list(_SALARY.finditer(text))
    for index, match in enumerate(matches):
        number = match["number"]
        if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", number):
            value = float(re.sub(r"[,.]", "", number))
        else:
            value = float(number)
        has_k = bool(match["k"])
        following = matches[index + 1] if index + 1 < len(matches) else None
        # "120-150k": the first number borrows the second one's 'k' and currency.
        joined = following is not None and _RANGE_DASH.match(text[match.end() : following.start()])
        if not has_k and joined and following["k"] and value < 1000:
            has_k = True
        currency = _currency(match) or (_currency(following) if joined else None)
        if has_k:
            value *= 1000
        if not (has_k or currency or value >= 10_000):
            continue
        if match["unit"] in ("h", "hr", "hour"):
            continue  # hourly rates are not compared with yearly salaries
        if match["unit"] in ("month", "mo"):
            value *= 12
        amounts.append((value, currency))
        spans.append(match.span())
    for start, end in reversed(spans):
        text = text[:start] + " , " + text[end:]
    if not amounts:
        return None, None, text
    value, currency = min(amounts, key=lambda amount: amount[0])
    currency = currency or next((c for _, c in amounts if c), None)
    return value, currency, text


def _currency(match: re.Match | None) -> str | None:
    if match is None:
        return None
    if match["symbol"]:
        return _CURRENCY_SYMBOLS[match["symbol"]]
    if match["word"]:
        return _CURRENCY_WORDS[match["word"]]
    return None


def money(value: float) -> str:
    return f"{value:,.0f}"
