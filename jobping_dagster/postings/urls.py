"""URLs from scraped cells: only http(s) URLs with a host are kept, made safe to embed."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from jobping_dagster.postings.cells import PLACEHOLDER_TEXT, as_text

MAX_URL_CHARS = 2048


def clean_url(value: object) -> str:
    text = as_text(value).strip()
    if text.casefold() in PLACEHOLDER_TEXT:
        return ""
    # Characters a URL never holds unencoded, and that would end an HTML attribute.
    text = text.replace('"', "%22").replace("<", "%3C").replace(">", "%3E")
    return re.sub(r"\s+", "%20", text)


def is_web_url(url: str) -> bool:
    if not url or len(url) > MAX_URL_CHARS:
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme.casefold() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def web_url_or_none(value: object, notes: set[str] | None = None, reason: str = "") -> str | None:
    """An http(s) URL, or None; a value that is not one (file://, javascript:, data:, a bare
    host) is noted under `reason`."""
    url = clean_url(value)
    if is_web_url(url):
        return url
    if url and notes is not None and reason:
        notes.add(reason)
    return None
