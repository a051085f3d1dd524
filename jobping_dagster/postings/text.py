"""Text fields made safe to store: encoding repaired, bounded, and one-line fields plain.

`notes` arguments collect why a value changed (NormalizationResult.cleaned): a bad field
costs that field, never the posting.
"""

from __future__ import annotations

import re

import ftfy

from jobping_dagster.postings.cells import PLACEHOLDER_TEXT, as_text
from jobping_dagster.postings.markup import HTML_ENTITY, TAG_START, strip_markup

CLEANED_MARKUP_STRIPPED = "markup_stripped"  # tags/entities in title, company, location...
TRUNCATED = "{field}_truncated"  # title_truncated, description_truncated, ...
# UTF-8 read as cp1252 or Latin-1 always holds a lead byte C2-F4 ("Â" to "ô"; "â€™" is
# "’"). Text without one is left alone: that spares ftfy's scan for badness, about a
# millisecond per description, on almost every posting. (Mojibake through other code
# pages, e.g. cp1251, is not looked for; the hand-written repair did not either.)
_MOJIBAKE_LEAD = re.compile(r"[\u00c2-\u00f4]")


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as cp1252 or Latin-1 ("Worldâ€™s" -> "World’s").

    Only ftfy's encoding repair: its other fixes (straight quotes, half-width letters,
    decoded entities) would change text that was never broken."""
    if not _MOJIBAKE_LEAD.search(text):
        return text
    return ftfy.fix_encoding(text)


def truncate(text: str, limit: int) -> str:
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


def noted_truncate(text: str, limit: int, notes: set[str] | None, field: str | None) -> str:
    cut = truncate(text, limit)
    if notes is not None and field and cut != text:
        notes.add(TRUNCATED.format(field=field))
    return cut


def bound_work(text: str, limit: int, notes: set[str] | None, field: str | None) -> str:
    """`text` cut before regexes and the HTML parser run on it, so a megabyte "title"
    costs no more than a long one. Cleaning rarely shrinks text by more than the margin."""
    bound = max(limit, 0) * 8 + 1000
    if len(text) <= bound:
        return text
    if notes is not None and field:
        notes.add(TRUNCATED.format(field=field))
    return text[:bound]


def clean_inline(
    value: object, limit: int, notes: set[str] | None = None, field: str | None = None
) -> str:
    """One-line text (title, company, location): repaired, plain, whitespace collapsed.

    `notes` collects why the value changed (markup stripped, `field` truncated)."""
    text = as_text(value)
    if not text:
        return ""
    text = " ".join(fix_mojibake(bound_work(text, limit, notes, field)).split())
    if TAG_START.search(text) or HTML_ENTITY.search(text):
        # Stored as plain text: whatever shows it (Discord, an HTML page) then has only
        # text to escape, never markup to trust.
        plain = " ".join(strip_markup(text).split())
        if plain != text and notes is not None:
            notes.add(CLEANED_MARKUP_STRIPPED)
        text = plain
    if text.casefold() in PLACEHOLDER_TEXT:
        return ""
    return noted_truncate(text, limit, notes, field)
