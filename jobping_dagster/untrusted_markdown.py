"""Untrusted text (postings, company research, LLM output) made safe to show in the Dagster
UI's markdown metadata.

The UI renders GitHub-flavoured markdown: a posting could otherwise add links (also bare
URLs and e-mail addresses, which GFM links by itself), images that load from anywhere,
headings, tables or code blocks to an operator's view. CommonMark lets a backslash escape
any ASCII punctuation, so escaping all of it shows the text exactly as written while every
construct (and every autolink, which needs a literal ":", "." or "@") stops working.
(notify/message.py does the same for Discord, whose markdown differs.)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Control characters, zero-width spaces and bidi overrides (which can disguise text).
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ASCII_PUNCTUATION_RE = re.compile(r"[!-/:-@\[-`{-~]")
_URL_MAX = 2000


def one_line(text: object, max_chars: int = 300) -> str:
    """`text` on one line without control or bidi characters, cut to `max_chars`: safe
    where the UI shows plain text."""
    if text is None:
        return ""
    # Cut first: a megabyte of posting costs nothing.
    raw = str(text)[: 4 * max_chars]
    line = " ".join(_CONTROL_RE.sub(" ", raw).split())
    return line if len(line) <= max_chars else line[: max_chars - 1].rstrip() + "…"


def inert_markdown(text: object, max_chars: int = 300) -> str:
    """`text` on one line, cut to `max_chars` visible characters, every markdown character
    escaped: it reads as written but cannot link, format or embed anything."""
    return _ASCII_PUNCTUATION_RE.sub(r"\\\g<0>", one_line(text, max_chars))


def safe_http_url(url: object) -> str | None:
    """The URL if it is a plain http(s) URL of printable ASCII, else None: a posting's link
    is shown as a link only when it cannot be a `javascript:` or disguised one."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > _URL_MAX or not re.fullmatch(r"[!-~]+", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url
