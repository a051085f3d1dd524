"""Plain text out of text that may hold HTML: no tag, comment or script survives.

Used for one-line fields (title, company, location), and for whatever markup is left in a
description after it was turned into markdown. Scraped text is hostile: markup can hide in
entities ("&lt;script&gt;"), in broken tags ("<img onerror=... " with no ">"), or be large
enough that a careless parser takes seconds.
"""

from __future__ import annotations

import re
import warnings
from html import unescape as html_unescape

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
from bs4.exceptions import ParserRejectedMarkup

# Only entities that end in ";": html.unescape alone would turn "&parameter" into "¶meter".
HTML_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# "&" that starts no complete entity: html.parser would eat "&T" in "AT&T".
BARE_AMPERSAND = re.compile(r"&(?!#\d{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
# Where a browser would start a tag, comment or processing instruction.
TAG_START = re.compile(r"<[A-Za-z/!?]")
# A "<" with no ">" before the next "<" or the end. Escaped before any HTML parser runs:
# both Python's and BeautifulSoup's rescan the rest of the text at each one (quadratic).
STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
# Elements whose content is code or page furniture, never text a reader should see.
HIDDEN_ELEMENTS = ("script", "style", "template", "noscript", "iframe", "object", "head")

# A tag left after parsing (one the parser kept as text, or cut off by the end of the text).
_LEFTOVER_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>?")
# A markdown autolink (markdownify writes one when a link's text is its URL): kept in
# descriptions, where a markdown renderer turns it into a link.
_AUTOLINK = re.compile(r"<https?://[^\s<>\"'`]{1,2000}>")
# Tags that separate words the way a space does ("<p>Senior</p><p>Engineer</p>").
_BREAKING_TAG = re.compile(r"<(?:br|p|div|li|tr|td|th|h[1-6])\b", re.IGNORECASE)


def hidden_elements(soup: BeautifulSoup, names: tuple[str, ...] = HIDDEN_ELEMENTS) -> list[Tag]:
    """The elements named `names` in `soup`, also when punctuation trails the name: the
    parser reads a markdown-escaped "\\<script\\>" as an element named "script\\"."""
    pattern = re.compile(rf"^(?:{'|'.join(map(re.escape, names))})\W*$", re.IGNORECASE)
    return soup.find_all(pattern)


def unescape_entities(text: str) -> str:
    return HTML_ENTITY.sub(lambda match: html_unescape(match.group()), text)


def parse_html(text: str) -> BeautifulSoup:
    """`text` as an HTML tree, read the way browsers read broken markup (a ">" inside a
    quoted attribute, an unclosed comment). Raises ParserRejectedMarkup for some markup
    (e.g. "<![ if gte mso 9 ]>"). Bare "&" and stray "<" stay text."""
    text = STRAY_LT.sub("&lt;", BARE_AMPERSAND.sub("&amp;", text))
    with warnings.catch_warnings():
        # It warns when markup looks like a URL or file name; a title may well.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        return BeautifulSoup(text, "html.parser")


def remove_leftover_tags(text: str) -> str:
    """The fallback when no parser reads the markup: anything shaped like a tag goes."""
    return _LEFTOVER_TAG.sub(" ", text)


def has_tags(text: str, keep_autolinks: bool = False) -> bool:
    return bool(TAG_START.search(_AUTOLINK.sub("", text) if keep_autolinks else text))


def _soup_text(text: str, keep_autolinks: bool) -> str:
    """The text of `text` read as HTML: tags, comments and hidden elements removed,
    entities decoded."""
    text = _BREAKING_TAG.sub(r" \g<0>", text)
    if keep_autolinks:  # escaped, they come out of the parser as the same text
        text = _AUTOLINK.sub(lambda match: f"&lt;{match.group()[1:-1]}&gt;", text)
    try:
        soup = parse_html(text)
    except ParserRejectedMarkup:
        return unescape_entities(remove_leftover_tags(text))
    for element in hidden_elements(soup):
        element.decompose()
    return soup.get_text()


def strip_markup(text: str, keep_autolinks: bool = False) -> str:
    """Plain text with no HTML left in it, decoded entities included."""
    # Decoding can make new markup ("&lt;script&gt;" is "<script>" once decoded), so passes
    # repeat until nothing changes; what is left after a few is removed as tag-shaped text.
    for _ in range(4):
        cleaned = unescape_entities(text)
        if has_tags(cleaned, keep_autolinks):
            cleaned = _soup_text(cleaned, keep_autolinks)
        if cleaned == text:
            break
        text = cleaned
    if not has_tags(text, keep_autolinks):
        return text
    if keep_autolinks:
        parts = re.split(f"({_AUTOLINK.pattern})", text)
        return "".join(p if i % 2 else remove_leftover_tags(p) for i, p in enumerate(parts))
    return remove_leftover_tags(text)
