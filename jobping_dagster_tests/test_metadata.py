"""The operator's view: match metadata, score histograms, untrusted text in markdown."""

import re

import pytest
from markdown_it import MarkdownIt

from jobping_dagster.llm.models import JobForScoring, MatchAnalysis
from jobping_dagster.matching.metadata import (
    BAR,
    BAR_WIDTH,
    analysis_markdown,
    histogram_table,
    match_metadata,
)
from jobping_dagster.matching.store import PairInput
from jobping_dagster.untrusted_markdown import inert_markdown, one_line, safe_http_url
from jobping_dagster.users.validation import mask_email

HOSTILE = [
    "[phish](https://evil.example/login)",
    "![pixel](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)> <b>bold</b>",
    "# Heading\n- item\n1. item\n> quote\n    code",
    "**bold** _em_ ~~strike~~ `code` | a | b |",
    "see https://evil.example or www.evil.example or mail bob@evil.example",
    "&lt;entity&gt; \\*escaped\\*",
    "a\u202etxt.exe\u200b\x00",
]
# What markdown may produce from text that is inert: paragraphs and nothing else.
_TAG_RE = re.compile(r"<(?!/?p>)[a-z/][^>]*>")


def _render(markdown: str) -> str:
    # CommonMark plus GFM tables and strikethrough, as the Dagster UI renders metadata.
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_renders_as_written_and_nothing_else(text):
    escaped = inert_markdown(text, 500)
    html = _render(escaped)
    assert not _TAG_RE.search(html), html
    # GFM links bare URLs and addresses by itself: each needs a literal ":", "." or "@".
    assert not re.search(r"(?<!\\)[:.@]", escaped)
    assert "\n" not in escaped and "\u202e" not in escaped and "\x00" not in escaped


def test_untrusted_text_is_cut_to_its_visible_length():
    assert one_line("x" * 1000, 10) == "x" * 9 + "…"
    assert inert_markdown("[" * 50, 10) == "\\[" * 9 + "…"
    assert inert_markdown(None) == ""


def test_only_plain_http_links_are_shown_as_links():
    assert safe_http_url(" https://jobs.example.com/1?a=b ") == "https://jobs.example.com/1?a=b"
    for url in ("javascript:alert(1)", "https://", "ftp://x.example", "https://x.example/ a", 5):
        assert safe_http_url(url) is None


def test_an_email_is_masked_to_its_first_letter_and_domain():
    assert mask_email("alice@Example.com") == "a***@example.com"
    assert mask_email("not an address") == "***"
    assert mask_email(None) == "***"


def _rows(table: str) -> dict[str, tuple[int, str]]:
    """bin -> (count, bar), whatever the column padding."""
    return {
        cells[0]: (int(cells[1]), cells[2])
        for line in table.splitlines()[2:]
        for cells in [[c.strip() for c in line.strip().strip("|").split("|")]]
    }


def test_the_histogram_counts_each_bin_of_ten_with_a_proportional_bar():
    rows = _rows(histogram_table([0, 5, 9.9, 10, 55, 90, 99, 100, 100, 100, 130, -4], "score"))
    assert list(rows) == [f"{low}–{low + 9}" for low in range(0, 90, 10)] + ["90–100"]
    assert rows["0–9"] == (4, BAR * round(4 / 6 * BAR_WIDTH))  # -4 counts as 0
    assert rows["10–19"] == (1, BAR * 5)
    assert rows["90–100"] == (6, BAR * BAR_WIDTH)  # 130 counts as 100
    assert rows["20–29"] == (0, "")
    assert sum(count for count, _ in rows.values()) == 12


def test_a_lone_value_among_many_still_shows_a_bar():
    assert _rows(histogram_table([95] * 1000 + [5], "score"))["0–9"] == (1, BAR)


def test_an_empty_histogram_is_a_table_of_zeros():
    rows = _rows(histogram_table([], "relevance"))
    assert len(rows) == 10 and {count for count, _ in rows.values()} == {0}


def _pair(**job) -> PairInput:
    values = {"title": "Data Engineer", "company": "Acme", "description": "x"}
    values.update(job)
    return PairInput(
        key="u1-j2",
        user_id=1,
        job_id=2,
        prompt="python",
        min_score=70,
        user_email="bob@example.org",
        job=JobForScoring(**values),
        company=None,
    )


ANALYSIS = MatchAnalysis(
    score=82,
    explanation="Fits. See [docs](https://evil.example).",
    pros=["Python", "**remote**"],
    cons=[f"con {n}" for n in range(12)],
    recommendation="apply",
)


def test_a_match_says_which_posting_and_user_and_why():
    metadata = match_metadata(_pair(url="https://jobs.example.com/2"), ANALYSIS, 7, "local")
    assert metadata["posting"].value == "Data Engineer @ Acme"
    assert metadata["user"].value == "user 1 · b***@example.org"
    assert metadata["job_url"].value == "https://jobs.example.com/2"
    assert (metadata["score"], metadata["notify"], metadata["match_id"]) == (82, True, 7)
    analysis = metadata["analysis"].value
    assert "**82/100**, apply (notified: threshold 70)" in analysis
    assert "- \\*\\*remote\\*\\*" in analysis and "- … 4 more" in analysis
    # Our own bold and lists only: the posting's and the LLM's markup stays text.
    tags = set(re.findall(r"<([a-z]+)", _render(analysis)))
    assert tags == {"p", "strong", "ul", "li"}


def test_a_match_without_a_safe_link_has_no_link():
    metadata = match_metadata(_pair(url="javascript:alert(1)"), ANALYSIS, 7, "local")
    assert "job_url" not in metadata
    assert "below the threshold" in analysis_markdown(
        _pair(), ANALYSIS.model_copy(update={"score": 10})
    )
