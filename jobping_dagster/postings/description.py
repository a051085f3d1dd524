"""Descriptions (and multi-line company fields) as clean, safe, bounded markdown.

jobspy writes descriptions as markdown (made by markdownify from the board's HTML); CSV
exports and some boards carry HTML instead, and both carry escapes, entities and mojibake.
Whatever comes in, what goes out is markdown with no HTML and no script link in it.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString
from bs4.exceptions import ParserRejectedMarkup
from markdownify import ATX, MarkdownConverter

from jobping_dagster.postings.cells import as_text
from jobping_dagster.postings.markup import (
    HIDDEN_ELEMENTS,
    has_tags,
    hidden_elements,
    parse_html,
    remove_leftover_tags,
    strip_markup,
    unescape_entities,
)
from jobping_dagster.postings.text import bound_work, fix_mojibake, noted_truncate

CLEANED_UNSAFE_MARKUP = "unsafe_markup_removed"  # script, tags or js: links in a description

# Tags that mark a description as HTML rather than markdown with text that looks like a tag.
_HTML_TAG = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|span|strong|b|i|em|u|a|table|tr|td|th|section|font)\b"
    r"[^<>]*>",  # not [^>]*: a "<b" with no ">" would rescan the rest of the text
    re.IGNORECASE,
)
# Elements whose removal is counted: they carry code, not just page furniture.
_CODE_ELEMENTS = ("script", "style", "iframe", "object")
# Links are kept as their text and images dropped, as the hand-written converter did: a
# link from a board is one more place for a script URL, an image a tracking pixel at best.
_MARKDOWNIFY_OPTIONS = {
    "heading_style": ATX,
    "bullets": "*",
    "strip": ["a", "img"],
    # Not escaped: a description is shown as markdown, and jobspy's own escapes are
    # removed below anyway.
    "escape_asterisks": False,
    "escape_underscores": False,
}
# A markdown link a renderer would turn into code or a local file.
# Neither part may hold a bracket, so a failed match stops at the next one (linear time).
_UNSAFE_MARKDOWN_LINK = re.compile(
    r"\[([^\[\]\n]{0,500})\]\(\s*<?\s*(?:javascript|vbscript|data|file):"
    r"(?:[^()\[\]\n]|\([^()\[\]\n]*\))*\)",
    re.IGNORECASE,
)
# jobspy's markdownify escapes these with a backslash; "\\" is handled in the same pass.
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!&|<>~=])")
_UNICODE_SPACES = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INNER_SPACE_RUNS = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_BLANK_LINE_RUNS = re.compile(r"\n{3,}")


def _keep_line_breaks(soup: BeautifulSoup) -> None:
    """Newlines inside text become <br>, which markdownify keeps (it folds newline runs in
    text, as a browser does). Text that is mostly markdown with a stray tag so keeps its
    lists and paragraphs; the newlines between the tags of real HTML are left alone."""
    for string in list(soup.find_all(string=True)):
        if type(string) is not NavigableString or "\n" not in string or not string.strip():
            continue
        text = str(string)
        previous = string.previous_sibling
        if getattr(previous, "name", None) == "br" and text.startswith("\n"):
            text = text[1:]  # "<br>" then a newline is one line break, not two
        pieces: list[object] = []
        for number, line in enumerate(text.split("\n")):
            if number:
                pieces.append(soup.new_tag("br"))
            pieces.append(NavigableString(line))
        string.replace_with(*pieces)


def html_to_markdown(text: str) -> tuple[str, bool]:
    """An HTML description as markdown, and whether code (a script, a style) was left out."""
    try:
        soup = parse_html(text)
    except ParserRejectedMarkup:  # e.g. "<![ if gte mso 9 ]>"
        return unescape_entities(remove_leftover_tags(text)), False
    dropped_code = bool(hidden_elements(soup, _CODE_ELEMENTS))
    for element in hidden_elements(soup, HIDDEN_ELEMENTS + ("title",)):
        element.decompose()
    _keep_line_breaks(soup)
    try:
        markdown = MarkdownConverter(**_MARKDOWNIFY_OPTIONS).convert_soup(soup)
    except RecursionError:  # markdownify recurses per level: "<div>" * 20_000 is too deep
        for line_break in soup("br"):
            line_break.replace_with("\n")
        markdown = soup.get_text()
    return "\n".join(line.strip() for line in markdown.split("\n")), dropped_code


def _without_unsafe_markup(text: str) -> str:
    """Markdown with no HTML and no script links left, whatever a renderer does with it."""
    text = _UNSAFE_MARKDOWN_LINK.sub(r"\1", text)
    if has_tags(text, keep_autolinks=True):
        # Tags markdownify does not convert (<img onerror> in markdown text, <script>), or
        # tags made by decoding entities and markdown escapes ("&lt;script&gt;",
        # "\\<script\\>").
        text = strip_markup(text, keep_autolinks=True)
    return text


def _tidy_whitespace(text: str) -> str:
    text = _UNICODE_SPACES.sub(" ", text)
    text = "\n".join(_INNER_SPACE_RUNS.sub(" ", line.rstrip()) for line in text.split("\n"))
    return _BLANK_LINE_RUNS.sub("\n\n", text).strip()


def clean_description(
    value: object, max_chars: int = 20_000, notes: set[str] | None = None, field: str | None = None
) -> str:
    """A description as clean markdown: unescaped, untagged, repaired, bounded.

    `notes` collects why it changed (unsafe markup removed, `field` truncated)."""
    text = as_text(value)
    if not text:
        return ""
    text = bound_work(text, max_chars, notes, field)
    text = fix_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
    dropped_code = False
    if _HTML_TAG.search(text):  # the HTML parser decodes entities itself
        text, dropped_code = html_to_markdown(text)
    else:
        text = unescape_entities(text)
    text = _MARKDOWN_ESCAPE.sub(r"\1", text)
    safe = _without_unsafe_markup(text)
    if (dropped_code or safe != text) and notes is not None:
        notes.add(CLEANED_UNSAFE_MARKUP)
    return noted_truncate(_tidy_whitespace(safe), max_chars, notes, field)
