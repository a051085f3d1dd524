"""Keys that name a company, a job and a listing stably, however a board spells them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qs, urlsplit

from jobping_dagster.postings.text import clean_inline

MAX_COMPANY_KEY_CHARS = 60
# company key + title + location stays under 600 characters (the jobs.dedup_key column).
MAX_TITLE_KEY_CHARS = 300
MAX_LOCATION_KEY_CHARS = 200

_LEGAL_SUFFIXES = frozenset(
    "inc incorporated llc llp lp pllc ltd limited corp corporation co company plc "
    "gmbh ag kg sa sas sarl srl spa bv nv pty".split()
)
_TITLE_ABBREVIATIONS = {"sr": "senior", "jr": "junior", "mgr": "manager"}
_COUNTRY_NAMES = frozenset(
    {
        "us", "usa", "united states", "united states of america", "uk", "united kingdom",
        "great britain", "canada", "mexico", "germany", "france", "netherlands", "ireland",
        "spain", "italy", "portugal", "poland", "switzerland", "austria", "belgium", "sweden",
        "norway", "denmark", "finland", "india", "australia", "new zealand", "singapore",
        "japan", "brazil",
    }
)  # fmt: skip
_LINKEDIN_JOB_ID = re.compile(r"/view/(?:[^/?#]*-)?(\d{1,30})(?:[/?#]|$)")


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[a-z0-9]+", folded.casefold())


def _short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def company_key(name: str) -> str:
    """A short URL-safe slug for a company: "Acme, Inc.", "ACME Inc" and "acme" give "acme"."""
    cleaned = clean_inline(name, 1000).casefold()
    text = re.sub(r"['’`]", "", cleaned.replace("&", " and "))
    text = re.sub(r"\b([a-z])\.", r"\1", text)  # "l.l.c." -> "llc", "j.p." -> "jp"
    words = _ascii_words(text)
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES | {"and"}:
        words.pop()  # "Smith & Co., Inc." -> "smith"
    if len(words) > 1 and words[0] == "the":
        words.pop(0)
    key = "-".join(words)
    if len(key) > MAX_COMPANY_KEY_CHARS:
        key = key[: MAX_COMPANY_KEY_CHARS + 1].rsplit("-", 1)[0][:MAX_COMPANY_KEY_CHARS]
    # Names with no Latin letters (or none at all) still need a distinct, stable key.
    return key or f"company-{_short_hash(cleaned, 10)}"


def _unicode_words(text: str) -> list[str]:
    folded = "".join(
        char
        for char in unicodedata.normalize("NFKD", text.casefold())
        if not unicodedata.combining(char)
    )
    return re.findall(r"[^\W_]+", folded)


def _title_key(title: str) -> str:
    words = (_TITLE_ABBREVIATIONS.get(word, word) for word in _unicode_words(title))
    return " ".join(words)[:MAX_TITLE_KEY_CHARS]


def _location_key(location: str | None) -> str:
    """City and state only: "Austin, TX, US", "Austin, TX" and "austin, tx, usa" agree."""
    parts = [part.strip() for part in (location or "").split(",") if part.strip()]
    while parts and parts[-1].casefold() in _COUNTRY_NAMES:
        parts.pop()
    return " ".join(_unicode_words(" ".join(parts[:2])))[:MAX_LOCATION_KEY_CHARS]


def dedup_key(company: str, title: str, location: str | None) -> str:
    """The same job on two boards gets the same key; the same title in two cities does not."""
    return "|".join((company_key(company), _title_key(title), _location_key(location)))


def source_id_from_url(url: str) -> str:
    """A stable per-site id for rows without jobspy's `id`, shaped like jobspy's own ids."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").casefold()
        query = parse_qs(parts.query)
    except ValueError:
        return f"url-{_short_hash(url)}"
    if "indeed." in host and query.get("jk"):
        return f"in-{query['jk'][0][:100]}"
    if "linkedin." in host and (match := _LINKEDIN_JOB_ID.search(parts.path)):
        return f"li-{match.group(1)}"
    if "glassdoor." in host and query.get("jl"):
        return f"gd-{query['jl'][0][:100]}"
    # ZipRecruiter's URL does not carry jobspy's listing key, so hash it like any other.
    if "ziprecruiter." in host:
        return f"zr-{_short_hash(url)}"
    return f"url-{_short_hash(url)}"
