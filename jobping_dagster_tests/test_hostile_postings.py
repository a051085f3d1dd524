"""Hostile postings, as in the fault tests: every bad field is kept, resolved, stripped, cut
or emptied, stored that way and counted by reason; an old posting is never matched."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import jobs
from jobping_dagster.matching.candidates import candidate_jobs
from jobping_dagster.postings.normalize import JOBSPY_COLUMNS, normalize_frame
from jobping_dagster.postings.raw import frame_from_json, frame_to_json
from jobping_dagster.postings.recency import MAX_POSTING_AGE
from jobping_dagster.postings.store import upsert_postings

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MEGABYTE = 1_000_000
# What must never reach stored text: code, event handlers, tags of any kind.
UNSAFE = ("<", "alert", "onerror", "javascript:", "script")


def row(n: int, **overrides: object) -> dict[str, object]:
    """A valid jobspy row, distinct from every other `n` (no duplicates between them)."""
    values: dict[str, object] = dict.fromkeys(JOBSPY_COLUMNS, np.nan)
    values.update(
        id=f"in-{n}",
        site="indeed",
        job_url=f"https://www.indeed.com/viewjob?jk={n}",
        title=f"Backend Engineer {n}",
        company=f"Acme {n}",
        location="Austin, TX, US",
        date_posted="2026-03-09",
        description="Build **APIs**.",
    )
    values.update(overrides)
    return values


def normalized(*rows: dict[str, object]):
    return normalize_frame(pd.DataFrame(list(rows)), today=TODAY)


def one(**overrides: object):
    """The one posting made of a row with `overrides`, and what was cleaned in it."""
    result = normalized(row(1, **overrides))
    assert result.accepted == 1, result.rejected
    return result.postings[0], result.cleaned


# --------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("value", "expected", "reason"),
    [
        ("1900-01-01", date(1900, 1, 1), None),  # readable: kept, so recency excludes it
        ("1999-12-31", date(1999, 12, 31), None),
        (date(1970, 1, 1), date(1970, 1, 1), None),
        ("2999-01-01", None, "date_in_future"),
        ((TODAY + timedelta(days=2)).isoformat(), None, "date_in_future"),
        (pd.Timestamp("2999-06-01"), None, "date_in_future"),
        ("2024-02-30", None, "date_impossible"),
        ("2025-13-45", None, "date_impossible"),
        ("02/30/2024", None, "date_impossible"),
        ("garbage", None, "date_unreadable"),
        ("the day after tomorrow", None, "date_unreadable"),
        (20250101, None, "date_unreadable"),  # numbers are too ambiguous to guess
        ("yesterday", TODAY - timedelta(days=1), "date_relative_resolved"),
        ("today", TODAY, "date_relative_resolved"),
        ("Just posted", TODAY, "date_relative_resolved"),
        ("3 days ago", TODAY - timedelta(days=3), "date_relative_resolved"),
        ("Posted 1 day ago", TODAY - timedelta(days=1), "date_relative_resolved"),
        ("an hour ago", TODAY, "date_relative_resolved"),
        ("2 weeks ago", TODAY - timedelta(days=14), "date_relative_resolved"),
        ("30+ days ago", TODAY - timedelta(days=31), "date_relative_resolved"),
        ("30d+", TODAY - timedelta(days=31), "date_relative_resolved"),  # Glassdoor
        ("24h", TODAY - timedelta(days=1), "date_relative_resolved"),
        ("", None, None),  # missing is not an error
        (np.nan, None, None),
    ],
)
def test_dates_are_kept_resolved_or_emptied_and_counted(value, expected, reason):
    posting, cleaned = one(date_posted=value)

    assert posting.date_posted == expected
    assert cleaned == (Counter({reason: 1}) if reason else Counter())


def test_relative_dates_resolve_against_the_scrape_day_not_the_clock():
    result = normalize_frame(
        pd.DataFrame([row(1, date_posted="yesterday")]), today=date(2025, 1, 1)
    )
    assert result.postings[0].date_posted == date(2024, 12, 31)


# --------------------------------------------------------------------------------------
# Salaries


@pytest.mark.parametrize(
    ("low", "high", "expected", "reasons"),
    [
        (-50_000, 90_000, (None, 90_000), ["salary_not_positive"]),
        (-50_000, -40_000, (None, None), ["salary_not_positive"]),
        (np.inf, 90_000, (None, 90_000), ["salary_not_finite"]),
        ("-inf", "inf", (None, None), ["salary_not_finite"]),
        (1e12, np.nan, (None, None), ["salary_implausible"]),
        (80_000, 1e12, (80_000, None), ["salary_implausible"]),
        (120_000, 90_000, (90_000, 120_000), ["salary_min_above_max"]),  # kept, swapped
        ("lots", 90_000, (None, 90_000), ["salary_unreadable"]),
        ("95,000", "$110,000", (95_000, 110_000), []),
    ],
)
def test_bad_salaries_are_dropped_and_counted(low, high, expected, reasons):
    posting, cleaned = one(min_amount=low, max_amount=high, interval="yearly", currency="USD")

    assert (posting.salary_min, posting.salary_max) == expected
    assert cleaned == Counter(reasons)


def test_an_amount_without_interval_is_counted():
    posting, cleaned = one(min_amount=90_000, interval=np.nan)
    assert posting.salary_min is None
    assert cleaned == Counter({"salary_interval_unknown": 1})


def test_an_infinite_salary_is_still_counted_after_the_raw_scrape_round_trip():
    frame = pd.DataFrame([row(1, min_amount=np.inf, interval="yearly", currency="USD")])
    rebuilt = frame_from_json(frame_to_json(frame))
    assert normalize_frame(rebuilt, today=TODAY).cleaned == Counter({"salary_not_finite": 1})


# --------------------------------------------------------------------------------------
# Markup


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("title", "<script>alert(1)</script>Engineer", "Engineer"),
        ("title", "&lt;script&gt;alert(1)&lt;/script&gt;Engineer", "Engineer"),
        ("title", "<b>Senior</b> <i>Engineer</i>", "Senior Engineer"),
        ("title", "Engineer <img src=x onerror=alert(1)", "Engineer"),  # unclosed tag
        ("company", "<img src=x onerror=alert(1)>Acme", "Acme"),
        ("company", 'Acme <img alt="a>b" onerror=alert(1)>Labs', "Acme Labs"),
        ("company", "AT&amp;T <svg/onload=alert(1)>", "AT&T"),
        ("location", "<a href='javascript:alert(1)'>Austin</a>, TX", "Austin, TX"),
    ],
)
def test_markup_in_one_line_fields_becomes_plain_text_and_is_counted(field, value, expected):
    posting, cleaned = one(**{field: value})

    assert getattr(posting, field) == expected
    assert cleaned == Counter({"markup_stripped": 1})


@pytest.mark.parametrize(
    "text", ["AT&T", "R&D <5 years", "C++ & Go", "Salary > 50k", "Dev &parameter"]
)
def test_text_that_only_looks_like_markup_is_left_alone(text):
    posting, cleaned = one(title=text)
    assert posting.title == text
    assert cleaned == Counter()


def test_a_company_that_is_only_markup_is_rejected_as_missing():
    result = normalized(row(1, company="<img src=x onerror=alert(1)>"))
    assert result.accepted == 0
    assert result.rejected == Counter({"missing_company": 1})


@pytest.mark.parametrize(
    "description",
    [
        "Build APIs.<script>alert(1)</script>",
        "Build APIs. <img src=x onerror=alert(1)>",
        "<p>Build APIs.</p><script>alert(1)</script><img src=x onerror=alert(1)>",
        "Build APIs. &lt;script&gt;alert(1)&lt;/script&gt;",
        "Build APIs. \\<script\\>alert(1)\\</script\\>",  # markdown-escaped
        "<p>Build APIs.</p>\\<script\\>alert(1)\\</script\\>",  # escaped, inside HTML
        "Build APIs. [Apply](javascript:alert(1))",
    ],
)
def test_no_script_or_handler_survives_in_a_description(description):
    posting, cleaned = one(description=description)

    assert posting.description.startswith("Build APIs.")
    for unsafe in UNSAFE:
        assert unsafe not in posting.description.casefold()
    assert cleaned == Counter({"unsafe_markup_removed": 1})


@pytest.mark.parametrize(
    "description",
    ["<div>" * 20_000 + "Build APIs.", "<p>Build APIs.</p>" + "<span>" * 20_000 + "<script>x"],
)
def test_deeply_nested_markup_does_not_cost_the_posting(description):
    posting, _ = one(description=description)
    assert posting.description.startswith("Build APIs.")
    assert "<" not in posting.description and "script" not in posting.description


def test_an_ordinary_markdown_description_is_not_counted():
    posting, cleaned = one(description="**Duties**\n\n* Ship\\-it\n* See <https://acme.example>")
    assert posting.description == "**Duties**\n\n* Ship-it\n* See <https://acme.example>"
    assert cleaned == Counter()


# --------------------------------------------------------------------------------------
# URLs and size


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "data:text/html,x"])
def test_non_web_urls_are_dropped_and_counted(url):
    posting, cleaned = one(company_url=url, company_url_direct=url, job_url_direct=url)

    assert posting.url_direct is None
    assert "url" not in posting.company_fields and "url_direct" not in posting.company_fields
    # Once per posting and reason, however many of its fields had one.
    assert cleaned == Counter({"company_url_dropped": 1, "url_direct_dropped": 1})


def test_a_non_web_job_url_rejects_the_row():
    result = normalized(row(1, job_url="file:///etc/passwd"))
    assert result.rejected == Counter({"invalid_url": 1})


def test_a_quote_in_a_url_cannot_end_an_html_attribute():
    posting, _ = one(job_url_direct='https://acme.example/jobs/1"><script>alert(1)</script>')
    assert (
        posting.url_direct == "https://acme.example/jobs/1%22%3E%3Cscript%3Ealert(1)%3C/script%3E"
    )


def test_megabyte_title_and_description_are_cut_and_counted():
    posting, cleaned = one(title="Engineer " * (MEGABYTE // 9), description="word " * MEGABYTE)

    assert len(posting.title) <= 300 and posting.title.endswith("…")
    assert len(posting.description) <= 20_000 and posting.description.endswith("…")
    assert cleaned == Counter({"title_truncated": 1, "description_truncated": 1})


def test_a_megabyte_of_markup_in_a_title_is_cut_and_stripped():
    posting, cleaned = one(title="<b>Engineer</b> " * (MEGABYTE // 16))
    assert posting.title.startswith("Engineer Engineer") and "<" not in posting.title
    assert cleaned == Counter({"title_truncated": 1, "markup_stripped": 1})


# --------------------------------------------------------------------------------------
# The whole way: normalized, stored, counted, selected


def hostile_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            row(1, date_posted="1900-01-01"),
            row(2, date_posted="2999-01-01"),
            row(3, date_posted="yesterday"),
            row(4, date_posted="2024-02-30"),
            row(5, min_amount=-1, max_amount=np.inf, interval="yearly", currency="USD"),
            row(6, min_amount=1e12, interval="yearly", currency="USD"),
            row(7, title="<script>alert(1)</script>Engineer"),
            row(8, company="<img src=x onerror=alert(1)>Initech"),
            row(9, company_url="file:///etc/passwd"),
            row(10, title="x" * MEGABYTE),
            row(11, company="<img src=x onerror=alert(1)>"),  # nothing left: rejected
        ]
    )


# What normalizing hostile_frame() counts, whichever way it comes in (scrape, rebuild, CSV).
HOSTILE_REJECTED = {"missing_company": 1}
HOSTILE_CLEANED = {
    "company_url_dropped": 1,
    "date_impossible": 1,
    "date_in_future": 1,
    "date_relative_resolved": 1,
    "markup_stripped": 2,
    "salary_implausible": 1,
    "salary_not_finite": 1,
    "salary_not_positive": 1,
    "title_truncated": 1,
}


def test_hostile_rows_are_stored_clean_and_counted(engine):
    result = normalize_frame(hostile_frame(), today=TODAY)
    with engine.begin() as conn:
        stats = upsert_postings(conn, result.postings, day=TODAY, now=NOW)
        stored = {r.source_id: r for r in conn.execute(sa.select(jobs).order_by(jobs.c.source_id))}

    assert (result.accepted, stats.inserted) == (10, 10)
    assert result.rejected == HOSTILE_REJECTED
    assert result.cleaned == HOSTILE_CLEANED
    assert stored["in-1"].date_posted == date(1900, 1, 1)
    assert stored["in-2"].date_posted is None
    assert stored["in-3"].date_posted == TODAY - timedelta(days=1)
    assert stored["in-4"].date_posted is None
    for source_id in ("in-5", "in-6"):
        assert (stored[source_id].salary_min, stored[source_id].salary_max) == (None, None)
        assert stored[source_id].facts["salary_min"] is None
    assert stored["in-7"].title == "Engineer"
    assert (stored["in-8"].company, stored["in-8"].company_key) == ("Initech", "initech")
    assert "url" not in stored["in-9"].company_fields
    assert len(stored["in-10"].title) == 300
    for job in stored.values():
        for text in (job.title, job.company, job.location, job.description):
            assert not any(unsafe in (text or "").casefold() for unsafe in UNSAFE)


def test_a_posting_dated_1900_is_never_selected_for_matching(engine):
    result = normalize_frame(hostile_frame(), today=TODAY)
    with engine.begin() as conn:
        upsert_postings(conn, result.postings, day=TODAY, now=NOW)
        selected = {job.id: job for job in candidate_jobs(conn, day=TODAY)}
        ids = {r.source_id: r.id for r in conn.execute(sa.select(jobs.c.source_id, jobs.c.id))}

    assert ids["in-1"] not in selected  # 1900
    assert ids["in-3"] in selected  # yesterday
    # No readable date: first seen today, so as recent as that.
    assert ids["in-2"] in selected and ids["in-4"] in selected


def test_without_a_date_the_day_first_seen_decides_recency(engine):
    first_seen = NOW - MAX_POSTING_AGE - timedelta(days=10)
    result = normalized(row(1, date_posted="garbage"), row(2, date_posted=np.nan))
    with engine.begin() as conn:
        upsert_postings(conn, result.postings, day=first_seen.date(), now=first_seen)
        # Still on the board today: seen again, but first seen 40 days ago.
        conn.execute(jobs.update().values(last_seen_at=NOW))
        recent = candidate_jobs(conn, since=NOW - timedelta(days=7))
        on_first_day = candidate_jobs(conn, day=first_seen.date())

    assert recent == []
    assert len(on_first_day) == 2
