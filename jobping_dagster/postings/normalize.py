"""Turn raw jobspy frames into clean Postings, accounting for every input row.

Plain Python and pandas (no Dagster), so it runs the same in assets, scripts and tests.
Scraped data is messy on purpose here: every cell may be missing, of the wrong type or
garbage. A bad row is rejected with a reason instead of raising; a bad field of a good row
(an unreadable date, an absurd salary, markup, a file:// URL, a megabyte of text) is emptied,
stripped or cut, and counted under a reason too (NormalizationResult.cleaned).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import warnings
from collections.abc import Callable, Hashable, Iterator
from datetime import date, datetime, timedelta
from html import unescape as html_unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from bs4.exceptions import ParserRejectedMarkup

from jobping_dagster.postings.model import NormalizationResult, Posting, SiteStats

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

REJECT_MISSING_TITLE = "missing_title"
REJECT_MISSING_COMPANY = "missing_company"
REJECT_MISSING_URL = "missing_url"
REJECT_INVALID_URL = "invalid_url"
# Safety net: a value nobody foresaw must cost one row, never the whole scrape.
REJECT_UNREADABLE_ROW = "unreadable_row"

# Why a field of an accepted posting was changed or emptied (NormalizationResult.cleaned,
# counted once per posting and reason). A bad field costs that field, not the posting.
CLEANED_MARKUP_STRIPPED = "markup_stripped"  # tags/entities in title, company, location...
CLEANED_UNSAFE_MARKUP = "unsafe_markup_removed"  # script, tags or js: links in a description
CLEANED_DATE_RELATIVE = "date_relative_resolved"  # "3 days ago" -> a date (kept)
CLEANED_DATE_FUTURE = "date_in_future"
CLEANED_DATE_IMPOSSIBLE = "date_impossible"  # shaped like a date, but no such day
CLEANED_DATE_UNREADABLE = "date_unreadable"
CLEANED_SALARY_NOT_POSITIVE = "salary_not_positive"
CLEANED_SALARY_NOT_FINITE = "salary_not_finite"
CLEANED_SALARY_UNREADABLE = "salary_unreadable"
CLEANED_SALARY_IMPLAUSIBLE = "salary_implausible"  # outside the annual range of its currency
CLEANED_SALARY_MIN_ABOVE_MAX = "salary_min_above_max"  # swapped, not emptied
CLEANED_SALARY_NO_INTERVAL = "salary_interval_unknown"  # an amount that cannot be annualized
CLEANED_URL_DIRECT_DROPPED = "url_direct_dropped"  # not an http(s) URL
CLEANED_COMPANY_URL_DROPPED = "company_url_dropped"
TRUNCATED = "{field}_truncated"  # title_truncated, description_truncated, ...

UNKNOWN_SITE = "unknown"
MAX_TITLE_CHARS = 300
MAX_COMPANY_CHARS = 300
MAX_LOCATION_CHARS = 300
MAX_URL_CHARS = 2048
MAX_COMPANY_FIELD_CHARS = 2000
MAX_COMPANY_KEY_CHARS = 60
MAX_JOB_TYPE_CHARS = 200
# company key + title + location stays under 600 characters (the jobs.dedup_key column).
MAX_TITLE_KEY_CHARS = 300
MAX_LOCATION_KEY_CHARS = 200

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
_PLACEHOLDER_TEXT = frozenset({"nan", "none", "null", "n/a", "nat"})
_TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})
_JOB_TYPE_ALIASES = {"contractor": "contract", "intern": "internship", "temp": "temporary"}
_DATE_FORMATS = ("%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
_UNICODE_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INNER_SPACE_RUNS = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_BLANK_LINE_RUNS = re.compile(r"\n{3,}")
# Only entities that end in ";": html.unescape alone would turn "&parameter" into "¶meter".
_HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|span|strong|b|i|em|u|a|table|tr|td|th|section|font)\b"
    r"[^<>]*>",  # not [^>]*: a "<b" with no ">" would rescan the rest of the text
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^<>]{1,500}>")
# Where a browser would start a tag, comment or processing instruction.
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# A tag left after parsing (one the parser kept as text, or cut off by the end of the text).
_LEFTOVER_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>?")
# A markdown autolink (markdownify writes one when a link's text is its URL): kept in
# descriptions, where a markdown renderer turns it into a link.
_AUTOLINK = re.compile(r"<https?://[^\s<>\"'`]{1,2000}>")
# A "<" with no ">" before the next "<" or the end. Escaped before any HTML parser runs:
# both Python's and BeautifulSoup's rescan the rest of the text at each one (quadratic).
_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
# Tags that separate words the way a space does ("<p>Senior</p><p>Engineer</p>").
_BREAKING_TAG = re.compile(r"<(?:br|p|div|li|tr|td|th|h[1-6])\b", re.IGNORECASE)
# Elements whose content is code or page furniture, never text a reader should see.
_HIDDEN_ELEMENTS = ("script", "style", "template", "noscript", "iframe", "object", "head")
# "&" that starts no complete entity: html.parser would eat "&T" in "AT&T".
_BARE_AMPERSAND = re.compile(r"&(?!#\d{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# A markdown link a renderer would turn into code or a local file.
# Neither part may hold a bracket, so a failed match stops at the next one (linear time).
_UNSAFE_MARKDOWN_LINK = re.compile(
    r"\[([^\[\]\n]{0,500})\]\(\s*<?\s*(?:javascript|vbscript|data|file):"
    r"(?:[^()\[\]\n]|\([^()\[\]\n]*\))*\)",
    re.IGNORECASE,
)
# markdownify escapes these with a backslash; "\\" is handled in the same pass.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&|<>~=])")
_REMOTE_WORD = re.compile(r"\bremote\b", re.IGNORECASE)
_ON_SITE_WORDS = re.compile(r"\b(?:hybrid|office|on-?site)\b", re.IGNORECASE)
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
_LINKEDIN_JOB_ID = re.compile(r"/view/(?:[^/?#]*-)?(\d{1,30})(?:[/?#]|$)")


# --------------------------------------------------------------------------------------
# Cells to text


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def _as_text(value: object) -> str:
    """Any cell as a string, "" when missing; 5000.0 becomes "5000" (CSV floats)."""
    if _is_missing(value):
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, bool | np.bool_):
        text = str(bool(value))
    elif isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return ""
        text = str(int(value)) if float(value).is_integer() else str(float(value))
    elif isinstance(value, list | tuple):
        text = ", ".join(part for part in map(_as_text, value) if part)
    else:
        text = str(value)
    text = _CONTROL_CHARS.sub("", text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates would break the database driver later
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined pass through as-is
        return chr(byte)


_CP1252_TO_BYTE = {_cp1252_char(byte): byte for byte in range(0x80, 0x100)}
_CONTINUATION = "[" + re.escape("".join(_cp1252_char(byte) for byte in range(0x80, 0xC0))) + "]"
# UTF-8 bytes that were decoded as cp1252: a lead byte and as many continuation bytes as it
# announces. "â€™" is the three bytes of "’".
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00df]{_CONTINUATION}|[\u00e0-\u00ef]{_CONTINUATION}{{2}}"
    f"|[\u00f0-\u00f4]{_CONTINUATION}{{3}}"
)


def _decode_mojibake(match: re.Match[str]) -> str:
    chunk = match.group()
    try:
        return bytes(_CP1252_TO_BYTE[char] for char in chunk).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return chunk


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as cp1252 ("Worldâ€™s" -> "World’s")."""
    for _ in range(2):  # text mangled twice needs two passes
        repaired = _MOJIBAKE.sub(_decode_mojibake, text)
        if repaired == text:
            break
        text = repaired
    return text


def _unescape_entities(text: str) -> str:
    return _HTML_ENTITY.sub(lambda match: html_unescape(match.group()), text)


def _truncate(text: str, limit: int) -> str:
    """Cut to at most `limit` characters at a word boundary, marking the cut with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[: max(limit, 0)]
    cut = text[: limit - 1]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary >= limit // 2:  # a single giant word is cut mid-word instead
        cut = cut[:boundary]
    return cut.rstrip() + "…"


def _noted_truncate(text: str, limit: int, notes: set[str] | None, field: str | None) -> str:
    cut = _truncate(text, limit)
    if notes is not None and field and cut != text:
        notes.add(TRUNCATED.format(field=field))
    return cut


def _has_tags(text: str, keep_autolinks: bool) -> bool:
    return bool(_TAG_START.search(_AUTOLINK.sub("", text) if keep_autolinks else text))


def _soup_text(text: str, keep_autolinks: bool) -> str:
    """The text of `text` read as HTML: tags, comments and hidden elements removed, entities
    decoded. BeautifulSoup because it reads broken markup the way browsers do (a ">" inside
    a quoted attribute, an unclosed comment)."""
    text = _BARE_AMPERSAND.sub("&amp;", _BREAKING_TAG.sub(r" \g<0>", text))
    text = _STRAY_LT.sub("&lt;", text)
    if keep_autolinks:  # escaped, they come out of the parser as the same text
        text = _AUTOLINK.sub(lambda match: f"&lt;{match.group()[1:-1]}&gt;", text)
    try:
        with warnings.catch_warnings():
            # It warns when markup looks like a URL or file name; a title may well.
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = BeautifulSoup(text, "html.parser")
    except ParserRejectedMarkup:  # e.g. "<![ if gte mso 9 ]>"
        return _unescape_entities(_LEFTOVER_TAG.sub(" ", text))
    for element in soup(_HIDDEN_ELEMENTS):
        element.decompose()
    return soup.get_text()


def _strip_markup(text: str, keep_autolinks: bool = False) -> str:
    """Plain text with no HTML left in it, decoded entities included."""
    # Decoding can make new markup ("&lt;script&gt;" is "<script>" once decoded), so passes
    # repeat until nothing changes; what is left after a few is removed as tag-shaped text.
    for _ in range(4):
        cleaned = _unescape_entities(text)
        if _has_tags(cleaned, keep_autolinks):
            cleaned = _soup_text(cleaned, keep_autolinks)
        if cleaned == text:
            break
        text = cleaned
    if not _has_tags(text, keep_autolinks):
        return text
    if keep_autolinks:
        parts = re.split(f"({_AUTOLINK.pattern})", text)
        return "".join(p if i % 2 else _LEFTOVER_TAG.sub(" ", p) for i, p in enumerate(parts))
    return _LEFTOVER_TAG.sub(" ", text)


def _clean_inline(
    value: object, limit: int, notes: set[str] | None = None, field: str | None = None
) -> str:
    """One-line text (title, company, location): repaired, plain, whitespace collapsed.

    `notes` collects why the value changed (markup stripped, `field` truncated)."""
    text = _as_text(value)
    if not text:
        return ""
    # Bound the work before the regexes and the HTML parser run on a 1 MB "title".
    bound = limit * 8 + 1000
    if len(text) > bound:
        text = text[:bound]
        if notes is not None and field:
            notes.add(TRUNCATED.format(field=field))
    text = " ".join(fix_mojibake(text).split())
    if _TAG_START.search(text) or _HTML_ENTITY.search(text):
        # Stored as plain text: whatever shows it (Discord, an HTML page) then has only
        # text to escape, never markup to trust.
        plain = " ".join(_strip_markup(text).split())
        if plain != text and notes is not None:
            notes.add(CLEANED_MARKUP_STRIPPED)
        text = plain
    if text.casefold() in _PLACEHOLDER_TEXT:
        return ""
    return _noted_truncate(text, limit, notes, field)


class _HtmlToText(HTMLParser):
    """Keeps the text of an HTML description and the line structure of its blocks."""

    _BLOCKS = frozenset(
        "p div ul ol table tr section article header footer blockquote h1 h2 h3 h4 h5 h6".split()
    )
    _HIDDEN = frozenset({"script", "style", "head", "title"})
    _BOLD = frozenset({"b", "strong"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped_code = False  # a script or style element was left out
        self._hidden_depth = 0
        self._after_break = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
            self.dropped_code = self.dropped_code or tag in ("script", "style")
        elif tag == "li":
            self.parts.append("\n* ")
        elif tag == "br":
            self.parts.append("\n")
            self._after_break = True
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")
        elif tag in self._BOLD:
            self.parts.append("**")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag in self._BOLD:
            self.parts.append("**")

    def handle_data(self, data: str) -> None:
        if self._after_break and data.startswith("\n"):
            data = data[1:]  # "<br>" then a newline is one line break, not two
        self._after_break = False
        if not self._hidden_depth:
            # Line breaks are kept: text that is mostly markdown with a stray tag keeps its
            # structure, and the blank lines real HTML adds are collapsed afterwards.
            self.parts.append(re.sub(r"[^\S\n]+", " ", data))


def _html_to_text(text: str) -> tuple[str, bool]:
    """The text of an HTML description, and whether script or style code was left out."""
    parser = _HtmlToText()
    try:
        parser.feed(_STRAY_LT.sub("&lt;", text))
        parser.close()
    except Exception:  # HTMLParser still trips on some broken markup, e.g. "<![ x ]>"
        return _unescape_entities(_ANY_TAG.sub(" ", text)), False
    lines = "".join(parser.parts).split("\n")
    return "\n".join(line.strip() for line in lines), parser.dropped_code


def _without_unsafe_markup(text: str) -> str:
    """Markdown with no HTML and no script links left, whatever a renderer does with it."""
    text = _UNSAFE_MARKDOWN_LINK.sub(r"\1", text)
    if _has_tags(text, keep_autolinks=True):
        # Tags the block conversion does not know (<img onerror>, <script>), or tags made by
        # decoding entities and markdown escapes ("&lt;script&gt;", "\\<script\\>").
        text = _strip_markup(text, keep_autolinks=True)
    return text


def _clean_description(
    value: object, max_chars: int, notes: set[str] | None = None, field: str | None = None
) -> str:
    text = _as_text(value)
    if not text:
        return ""
    # Bound the work before regexes and the HTML parser run: cleaning rarely shrinks text
    # by more than this, and a 1 MB blob must not cost seconds.
    bound = max(max_chars, 0) * 8 + 1000
    if len(text) > bound:
        text = text[:bound]
        if notes is not None and field:
            notes.add(TRUNCATED.format(field=field))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = fix_mojibake(text)
    dropped_code = False
    if _HTML_TAG.search(text):  # the HTML parser decodes entities itself
        text, dropped_code = _html_to_text(text)
    else:
        text = _unescape_entities(text)
    text = _MARKDOWN_ESCAPE.sub(r"\1", text)
    safe = _without_unsafe_markup(text)
    if (dropped_code or safe != text) and notes is not None:
        notes.add(CLEANED_UNSAFE_MARKUP)
    text = _UNICODE_SPACES.sub(" ", safe)
    text = "\n".join(_INNER_SPACE_RUNS.sub(" ", line.rstrip()) for line in text.split("\n"))
    text = _BLANK_LINE_RUNS.sub("\n\n", text).strip()
    return _noted_truncate(text, max_chars, notes, field)


def clean_description(value: object, max_chars: int = 20_000) -> str:
    """A description as clean markdown: unescaped, untagged, repaired, bounded."""
    return _clean_description(value, max_chars)


# --------------------------------------------------------------------------------------
# Keys


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[a-z0-9]+", folded.casefold())


def _short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:length]


def company_key(name: str) -> str:
    """A short URL-safe slug for a company: "Acme, Inc.", "ACME Inc" and "acme" give "acme"."""
    cleaned = _clean_inline(name, 1000).casefold()
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


# --------------------------------------------------------------------------------------
# Fields


def _clean_url(value: object) -> str:
    text = _as_text(value).strip()
    if text.casefold() in _PLACEHOLDER_TEXT:
        return ""
    # Characters a URL never holds unencoded, and that would end an HTML attribute.
    text = text.replace('"', "%22").replace("<", "%3C").replace(">", "%3E")
    return re.sub(r"\s+", "%20", text)


def _is_web_url(url: str) -> bool:
    if not url or len(url) > MAX_URL_CHARS:
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme.casefold() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _web_url_or_none(value: object, notes: set[str] | None = None, reason: str = "") -> str | None:
    """An http(s) URL, or None; a value that is not one (file://, javascript:, data:, a bare
    host) is noted under `reason`."""
    url = _clean_url(value)
    if _is_web_url(url):
        return url
    if url and notes is not None and reason:
        notes.add(reason)
    return None


def _parse_date(value: object, today: date, notes: set[str]) -> date | None:
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


def _to_date(value: object, today: date, notes: set[str]) -> date | None:
    if _is_missing(value):
        return None
    if isinstance(value, datetime):  # pd.Timestamp included
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    text = _as_text(value).strip()
    if not text or text.casefold() in _PLACEHOLDER_TEXT:
        return None
    if not isinstance(value, str):  # numbers are not dates: too ambiguous to guess
        notes.add(CLEANED_DATE_UNREADABLE)
        return None
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


def _remote_flag(value: object) -> bool | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return bool(value) if value in (0, 1) else None
    text = _as_text(value).strip().casefold()
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


def _is_remote(record: dict[str, Any], title: str, location: str | None) -> bool | None:
    flag = _remote_flag(record.get("is_remote"))
    if flag is not None:
        return flag
    work_from_home = _clean_inline(record.get("work_from_home_type"), 100)
    if _REMOTE_WORD.search(" ".join((title, location or "", work_from_home))):
        return True
    if _ON_SITE_WORDS.search(work_from_home):
        return False
    return None


def _job_type(value: object, notes: set[str]) -> str | None:
    """ "Full-Time / part time" -> "fulltime, parttime" (jobspy's own spelling)."""
    job_types: list[str] = []
    for part in re.split(r"[,;/|]", _as_text(value)[:10_000]):
        word = re.sub(r"[^a-z0-9]", "", part.casefold()).removeprefix("jobtype")
        word = _JOB_TYPE_ALIASES.get(word, word)[:30]
        if word and word not in job_types:
            if len(", ".join([*job_types, word])) > MAX_JOB_TYPE_CHARS:
                notes.add(TRUNCATED.format(field="job_type"))
                break
            job_types.append(word)
    return ", ".join(job_types) or None


def _amount(value: object, notes: set[str]) -> float | None:
    """A positive finite amount, or None; a present value that is not one is noted."""
    if _is_missing(value):  # NaN is how pandas says "no amount": not an error
        return None
    if isinstance(value, bool | np.bool_):
        notes.add(CLEANED_SALARY_UNREADABLE)
        return None
    if isinstance(value, int | float | np.number):
        number = float(value)
    else:
        text = re.sub(r"[\s,$€£]", "", _as_text(value)[:100]).casefold()
        if not text or text in _PLACEHOLDER_TEXT:
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
    text = _as_text(value).strip().upper()
    text = _CURRENCY_SYMBOLS.get(text, text)
    return text if re.fullmatch(r"[A-Z]{3}", text) else None


def _interval(value: object) -> str | None:
    text = _as_text(value).strip().casefold().removeprefix("per ")
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


def _salary(
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
    source = _clean_inline(record.get("salary_source"), 40).casefold() or None
    return low, high, currency, source


def _company_fields(record: dict[str, Any], notes: set[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, column in COMPANY_FIELD_COLUMNS.items():
        raw = record.get(column)
        if name in _URL_COMPANY_FIELDS:
            value = _web_url_or_none(raw, notes, CLEANED_COMPANY_URL_DROPPED) or ""
        elif name in _MULTILINE_COMPANY_FIELDS:
            value = _clean_description(raw, MAX_COMPANY_FIELD_CHARS, notes, "company_fields")
        else:
            value = _clean_inline(raw, MAX_COMPANY_FIELD_CHARS, notes, "company_fields")
        if value:
            fields[name] = value
    return fields


# --------------------------------------------------------------------------------------
# Rows and frames


def _records(frame: pd.DataFrame | None) -> Iterator[dict[str, Any]]:
    if frame is None:
        return
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"normalize_frame expects a pandas DataFrame, not {type(frame).__name__}")
    columns = [str(column) for column in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        yield dict(zip(columns, row, strict=True))


def _site_name(value: object) -> str:
    site = _clean_inline(value, 40).casefold().replace(" ", "_")
    return site or UNKNOWN_SITE


def _posting_from_record(
    record: dict[str, Any], site: str, max_description_chars: int, today: date
) -> tuple[Posting, set[str]] | str:
    """A Posting and why its fields were cleaned (CLEANED_*), or the reason the row is
    rejected."""
    notes: set[str] = set()
    # A title or company that was only markup ("<img onerror=...>") is missing.
    title = _clean_inline(record.get("title"), MAX_TITLE_CHARS, notes, "title")
    if not title:
        return REJECT_MISSING_TITLE
    company = _clean_inline(record.get("company"), MAX_COMPANY_CHARS, notes, "company")
    if not company:
        return REJECT_MISSING_COMPANY
    url = _clean_url(record.get("job_url"))
    if not url:
        return REJECT_MISSING_URL
    if not _is_web_url(url):
        return REJECT_INVALID_URL

    location = _clean_inline(record.get("location"), MAX_LOCATION_CHARS, notes, "location") or None
    salary_min, salary_max, salary_currency, salary_source = _salary(record, notes)
    description = _clean_description(
        record.get("description"), max_description_chars, notes, "description"
    )
    posting = Posting(
        site=site,
        source_id=(
            _clean_inline(record.get("id"), 200, notes, "source_id") or source_id_from_url(url)
        ),
        dedup_key=dedup_key(company, title, location),
        url=url,
        title=title,
        company=company,
        company_key=company_key(company),
        description=description,
        url_direct=_web_url_or_none(
            record.get("job_url_direct"), notes, CLEANED_URL_DIRECT_DROPPED
        ),
        location=location,
        is_remote=_is_remote(record, title, location),
        date_posted=_parse_date(record.get("date_posted"), today, notes),
        job_type=_job_type(record.get("job_type"), notes),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=salary_currency,
        salary_source=salary_source,
        company_fields=_company_fields(record, notes),
    )
    return posting, notes


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
        site = _site_name(record.get("site"))
        stats = result.per_site.setdefault(site, SiteStats())
        stats.rows_in += 1
        result.rows_in += 1
        try:
            outcome = _posting_from_record(record, site, max_description_chars, today)
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
