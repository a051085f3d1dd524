"""normalize_frame, company_key and the raw JSON round trip, on real and hand-made rows."""

import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobping_dagster.postings.description import clean_description
from jobping_dagster.postings.keys import company_key, dedup_key, source_id_from_url
from jobping_dagster.postings.normalize import JOBSPY_COLUMNS, normalize_frame
from jobping_dagster.postings.raw import frame_from_json, frame_to_json

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"
CURRENT_LAYOUT = FIXTURES / "non_tech_us_2025.csv"
OLD_LAYOUT = FIXTURES / "software_engineer_us_2024.csv"
TODAY = date(2026, 3, 10)
URL_SAFE_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MARKDOWN_ESCAPE = re.compile(r"\\[-&.+*_#()]")

needs_fixtures = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="shared jobspy fixtures are not checked out next to the repo"
)


@pytest.fixture(scope="module")
def current_frame() -> pd.DataFrame:
    return pd.read_csv(CURRENT_LAYOUT, escapechar="\\")


@pytest.fixture(scope="module")
def old_frame() -> pd.DataFrame:
    return pd.read_csv(OLD_LAYOUT)


def make_row(**overrides: object) -> dict[str, object]:
    """A valid jobspy row; overrides replace single fields."""
    row: dict[str, object] = dict.fromkeys(JOBSPY_COLUMNS, np.nan)
    row.update(
        id="in-abc123",
        site="indeed",
        job_url="https://www.indeed.com/viewjob?jk=abc123",
        title="Backend Engineer",
        company="Acme Inc",
        location="Austin, TX, US",
        date_posted="2026-03-09",
        description="Build **APIs**.",
    )
    row.update(overrides)
    return row


def normalize_rows(*rows: dict[str, object], **options: object):
    return normalize_frame(pd.DataFrame(list(rows)), today=TODAY, **options)


def only_posting(**overrides: object):
    result = normalize_rows(make_row(**overrides))
    assert result.accepted == 1, result.rejected
    return result.postings[0]


def assert_accounted_for(result, rows: int) -> None:
    assert result.rows_in == rows
    assert result.accepted + result.rejected_total + result.duplicates == result.rows_in
    for site, stats in result.per_site.items():
        assert stats.rows_in == stats.accepted + stats.rejected + stats.duplicates, site
        assert stats.accepted == sum(posting.site == site for posting in result.postings)
    assert sum(stats.rows_in for stats in result.per_site.values()) == result.rows_in
    assert sum(stats.duplicates for stats in result.per_site.values()) == result.duplicates
    assert sum(stats.rejected for stats in result.per_site.values()) == result.rejected_total


# --------------------------------------------------------------------------------------
# Real jobspy exports


@needs_fixtures
def test_current_layout_every_row_accounted_for(current_frame):
    result = normalize_frame(current_frame, today=date(2025, 11, 2))

    assert_accounted_for(result, len(current_frame))
    assert set(result.per_site) == {"indeed", "linkedin"}
    assert result.per_site["indeed"].rows_in == 20
    assert result.rejected_total == 0  # every row has a title, company and board URL
    assert result.cleaned == {}  # real data: no field needed emptying, cutting or stripping
    # Every LinkedIn row lacks a description; they are still kept.
    linkedin = [posting for posting in result.postings if posting.site == "linkedin"]
    assert len(linkedin) >= 19
    assert all(posting.description == "" for posting in linkedin)


@needs_fixtures
def test_current_layout_fields(current_frame):
    result = normalize_frame(current_frame, today=date(2025, 11, 2))
    by_id = {posting.source_id: posting for posting in result.postings}

    arborist = by_id["in-263fcc8281d46448"]  # hourly 23 to 48 USD
    assert (arborist.salary_min, arborist.salary_max) == (23 * 2080, 48 * 2080)
    assert arborist.salary_currency == "USD"
    assert arborist.salary_source == "direct_data"
    assert arborist.date_posted == date(2025, 11, 1)
    assert arborist.is_remote is False
    assert arborist.company_key == "arborpro"
    # Escaped markdown ("Field\-Based", "$23\.00") comes out as plain punctuation.
    assert "**Field-Based Utility Arboriculture Professionals**" in arborist.description
    assert "$23.00 – $48.00 per hour (DOE) + Weekly Bonus" in arborist.description
    assert not any(MARKDOWN_ESCAPE.search(posting.description) for posting in result.postings)

    assert by_id["in-d0c25933ba30469f"].job_type == "parttime, fulltime"
    assert by_id["li-4333474128"].date_posted is None  # empty date in the export
    assert by_id["li-4331786247"].is_remote is True

    nursing = by_id["in-5808e740e26eab65"]
    assert nursing.company_fields["industry"] == "Health Care"
    assert nursing.company_fields["num_employees"] == "51 to 200"
    assert nursing.company_fields["addresses"].startswith("2290 E. Prospect Rd. Suite 6\n")
    assert "logo" not in " ".join(nursing.company_fields)


@needs_fixtures
def test_current_layout_repost_on_linkedin_is_a_duplicate(current_frame):
    # Zeiders posted "Career Coach (Remote)" twice (two ids, no location): one is kept.
    result = normalize_frame(current_frame, today=date(2025, 11, 2))

    zeiders = [
        posting for posting in result.postings if posting.company_key == "zeiders-enterprises"
    ]
    assert len(zeiders) == 1
    assert result.duplicates == 1
    assert result.per_site["linkedin"].duplicates == 1
    # ArborPro's same title in two cities is two jobs.
    arborpro = [posting for posting in result.postings if posting.company_key == "arborpro"]
    assert {posting.location for posting in arborpro} == {
        "Thousand Oaks, CA, US",
        "Ventura, CA, US",
    }


@needs_fixtures
def test_dates_after_today_are_dropped(current_frame):
    result = normalize_frame(current_frame, today=date(2025, 10, 28))

    by_id = {posting.source_id: posting for posting in result.postings}
    assert by_id["in-263fcc8281d46448"].date_posted is None  # 2025-11-01 is in the future
    assert by_id["li-4319115012"].date_posted == date(2025, 10, 27)
    assert by_id["li-4324739665"].date_posted == date(2025, 10, 29)  # tomorrow is tolerated


@needs_fixtures
def test_derived_indeed_ids_match_jobspy_ids(current_frame):
    indeed = current_frame[current_frame["site"] == "indeed"]
    for jobspy_id, url in zip(indeed["id"], indeed["job_url"], strict=True):
        assert source_id_from_url(url) == jobspy_id
    linkedin = current_frame[current_frame["site"] == "linkedin"]
    for jobspy_id, url in zip(linkedin["id"], linkedin["job_url"], strict=True):
        assert source_id_from_url(url) == jobspy_id


@needs_fixtures
def test_old_layout_every_row_accounted_for(old_frame):
    result = normalize_frame(old_frame, today=date(2024, 4, 21))

    assert_accounted_for(result, len(old_frame))
    assert set(result.per_site) == {"glassdoor", "indeed", "linkedin", "zip_recruiter"}
    assert all(stats.rows_in == 100 for stats in result.per_site.values())
    assert result.rejected_total == 0
    assert result.cleaned == {}
    linkedin = [posting for posting in result.postings if posting.site == "linkedin"]
    assert linkedin and all(posting.description == "" for posting in linkedin)


@needs_fixtures
def test_old_layout_ids_come_from_urls(old_frame):
    result = normalize_frame(old_frame, today=date(2024, 4, 21))
    ids = {posting.source_id for posting in result.postings}

    assert "gd-1009245922323" in ids
    assert "in-bbb10073626c6591" in ids
    assert "li-3902366181" in ids
    zip_ids = [posting.source_id for posting in result.postings if posting.site == "zip_recruiter"]
    assert len(set(zip_ids)) == 100
    assert all(re.fullmatch(r"zr-[0-9a-f]{16}", source_id) for source_id in zip_ids)
    # Stable across runs: the same URL gives the same id.
    again = normalize_frame(old_frame, today=date(2024, 4, 21))
    assert [posting.source_id for posting in again.postings] == [
        posting.source_id for posting in result.postings
    ]


@needs_fixtures
def test_old_layout_duplicates(old_frame):
    result = normalize_frame(old_frame, today=date(2024, 4, 21))

    def kept(company: str, title: str, location: str | None = None):
        return [
            posting
            for posting in result.postings
            if posting.company_key == company
            and posting.title == title
            and (location is None or posting.location == location)
        ]

    # Same job on two boards; LinkedIn's copy comes first but has no description.
    revenova = kept("revenova", "Software Engineer")
    assert [posting.site for posting in revenova] == ["zip_recruiter"]
    # Both copies have descriptions; Indeed's also has the employer's own URL.
    firefly = kept("firefly-aerospace", "Software Test Engineer")
    assert [posting.site for posting in firefly] == ["indeed"]
    assert firefly[0].url_direct.startswith("https://firefly.hrmdirect.com/")
    # Reposts within one board: 4 Dante rows, 3 Lockheed Martin, 2 Microsoft.
    assert len(kept("dante", "Full Stack Developer")) == 1
    assert len(kept("lockheed-martin", "Software Engineer - Early Career", "Marietta, GA")) == 1
    assert len(kept("microsoft", "Software Engineer", "Redmond, WA")) == 1
    assert result.duplicates == 1 + 1 + 3 + 2 + 1
    assert len({posting.dedup_key for posting in result.postings}) == result.accepted


@needs_fixtures
def test_old_layout_cleaning(old_frame):
    result = normalize_frame(old_frame, today=date(2024, 4, 21))
    by_url = {posting.url: posting for posting in result.postings}

    itsm = by_url["https://www.indeed.com/viewjob?jk=2ce19c0349be0d74"]  # hourly 43.28 to 55
    assert itsm.salary_min == pytest.approx(43.28 * 2080)
    assert itsm.salary_max == pytest.approx(55 * 2080)
    assert itsm.job_type == "fulltime, contract"

    hca = [posting for posting in result.postings if "Ethisphere" in posting.description]
    assert hca and "World’s Most Ethical Companies®" in hca[0].description
    assert not any("â€" in posting.description for posting in result.postings)
    assert not any(MARKDOWN_ESCAPE.search(posting.description) for posting in result.postings)

    dates = [posting.date_posted for posting in result.postings if posting.date_posted]
    assert min(dates) == date(2021, 1, 11)  # old, but real: kept
    assert max(dates) == date(2024, 4, 20)
    no_date = old_frame["date_posted"].isna()
    assert no_date.sum() > 0
    for url in old_frame.loc[no_date, "job_url"]:
        if url in by_url:
            assert by_url[url].date_posted is None

    with_cr = old_frame["company_addresses"].fillna("").str.contains("\r")
    assert with_cr.any()
    for url in old_frame.loc[with_cr, "job_url"]:
        if url in by_url:
            address = by_url[url].company_fields["addresses"]
            assert "\r" not in address and "\n\n\n" not in address


@needs_fixtures
@pytest.mark.parametrize("path", [CURRENT_LAYOUT, OLD_LAYOUT], ids=["current", "old"])
def test_raw_json_round_trip_on_fixtures(path):
    frame = pd.read_csv(path, escapechar="\\" if path == CURRENT_LAYOUT else None)

    rebuilt = frame_from_json(frame_to_json(frame))

    assert list(rebuilt.columns) == list(frame.columns)
    assert len(rebuilt) == len(frame)
    before = normalize_frame(frame, today=TODAY)
    after = normalize_frame(rebuilt, today=TODAY)
    assert after.postings == before.postings
    assert (after.rejected, after.duplicates) == (before.rejected, before.duplicates)


# --------------------------------------------------------------------------------------
# Rejected rows


@pytest.mark.parametrize("title", [None, np.nan, "", "   ", "nan", pd.NA])
def test_missing_title_is_rejected(title):
    result = normalize_rows(make_row(title=title))
    assert result.accepted == 0
    assert result.rejected == {"missing_title": 1}
    assert result.per_site["indeed"].rejected == 1


@pytest.mark.parametrize("company", [None, np.nan, "", " \n "])
def test_missing_company_is_rejected(company):
    result = normalize_rows(make_row(company=company))
    assert result.rejected == {"missing_company": 1}


@pytest.mark.parametrize("url", [None, np.nan, "", "  "])
def test_missing_url_is_rejected(url):
    result = normalize_rows(make_row(job_url=url))
    assert result.rejected == {"missing_url": 1}


@pytest.mark.parametrize(
    "url",
    [
        "ftp://www.indeed.com/viewjob?jk=1",
        "javascript:alert(1)",
        "www.indeed.com/viewjob?jk=1",
        "https://",
        "https://[broken/x",
        "https://example.com/" + "a" * 5000,
    ],
)
def test_non_web_url_is_rejected(url):
    result = normalize_rows(make_row(job_url=url))
    assert result.rejected == {"invalid_url": 1}


def test_a_row_of_nothing_is_rejected_not_raised():
    result = normalize_rows(dict.fromkeys(JOBSPY_COLUMNS, np.nan))
    assert result.rejected == {"missing_title": 1}
    assert set(result.per_site) == {"unknown"}


def test_rejections_and_acceptances_are_counted_per_site():
    result = normalize_rows(
        make_row(),
        make_row(
            id="li-1",
            site="linkedin",
            job_url="https://www.linkedin.com/jobs/view/1",
            title="Frontend Engineer",
        ),
        make_row(id="li-2", site="linkedin", company=None),
        make_row(id=None, site=None, job_url="https://jobs.example.com/42", title="Other"),
    )

    assert result.per_site["indeed"].accepted == 1
    assert result.per_site["linkedin"].accepted == 1
    assert result.per_site["linkedin"].rejected == 1
    assert result.per_site["unknown"].accepted == 1
    assert_accounted_for(result, 4)


# --------------------------------------------------------------------------------------
# Cleaned rows


def test_nan_in_every_optional_field_is_accepted():
    row = dict.fromkeys(JOBSPY_COLUMNS, np.nan)
    row.update(title="Data Engineer", company="Acme", job_url="https://acme.example/jobs/1")
    result = normalize_rows(row)

    posting = result.postings[0]
    assert posting.site == "unknown"
    assert posting.description == ""
    assert posting.location is None
    assert posting.date_posted is None
    assert posting.is_remote is None
    assert posting.job_type is None
    assert (posting.salary_min, posting.salary_max, posting.salary_currency) == (None,) * 3
    assert posting.company_fields == {}
    assert re.fullmatch(r"url-[0-9a-f]{16}", posting.source_id)


def test_any_subset_of_columns_is_enough():
    frame = pd.DataFrame(
        {"title": ["Analyst"], "company": ["Acme"], "job_url": ["https://acme.example/1"]}
    )
    result = normalize_frame(frame, today=TODAY)
    assert result.accepted == 1
    assert normalize_frame(pd.DataFrame(), today=TODAY).rows_in == 0


def test_wrong_types_are_cleaned():
    posting = only_posting(
        title=12345,
        company=" ACME\u00a0Inc ",
        min_amount="55,000",
        max_amount=np.float64(65000),
        interval="yearly",
        currency="usd",
        is_remote="False",
        date_posted=pd.Timestamp("2026-03-01 14:30"),
        job_type=["fulltime", "contract"],
        company_num_employees=5000.0,
        job_url_direct=42,
    )
    assert posting.title == "12345"
    assert posting.company == "ACME Inc"
    assert (posting.salary_min, posting.salary_max) == (55000, 65000)
    assert posting.salary_currency == "USD"
    assert posting.is_remote is False
    assert posting.date_posted == date(2026, 3, 1)
    assert posting.job_type == "fulltime, contract"
    assert posting.company_fields == {"num_employees": "5000"}
    assert posting.url_direct is None


def test_huge_description_is_truncated_at_a_word():
    huge = "lorem ipsum dolor " * 60_000  # about 1 MB
    posting = only_posting(description=huge)

    assert len(posting.description) <= 20_000
    assert posting.description.endswith("…")
    assert posting.description[:-1].rstrip().split(" ")[-1] in {"lorem", "ipsum", "dolor"}


def test_description_limit_is_configurable():
    result = normalize_rows(make_row(description="word " * 1000), max_description_chars=300)
    assert 250 <= len(result.postings[0].description) <= 300


def test_html_description_becomes_text():
    posting = only_posting(
        description=(
            "<div><p>We build <b>maps</b> &amp; routing.</p><ul><li>Go</li><li>C++</li></ul>"
            "<script>track()</script><p>Apply&nbsp;now</p></div>"
        )
    )
    assert "<" not in posting.description
    assert "track()" not in posting.description
    assert "We build **maps** & routing." in posting.description
    assert "* Go\n* C++" in posting.description
    assert "Apply now" in posting.description


@pytest.mark.parametrize(
    "markup", ["<b>Go</b> <![ if gte mso 9 ]>", "<p>Go<![CDATA[", "<div>Go</div><!-- open"]
)
def test_broken_html_does_not_cost_the_posting(markup):
    posting = only_posting(description=markup)
    assert posting.description.startswith(("Go", "**Go**"))
    assert "<b>" not in posting.description


def test_markdown_with_a_stray_tag_keeps_its_lines():
    posting = only_posting(description="**Duties**\n\n* Ship\\-it<br>\n* Test\n\nPay: $50\\+")
    assert posting.description == "**Duties**\n\n* Ship-it\n* Test\n\nPay: $50+"


def test_markdown_escapes_mojibake_and_blank_lines_are_cleaned():
    posting = only_posting(
        description="Weâ€™re hiring\\! Full\\-time \\& C\\+\\+\\.\r\n\r\n\r\n\r\n* one\r\n* two  "
    )
    assert posting.description == "We’re hiring! Full-time & C++.\n\n* one\n* two"


def test_entities_are_decoded_only_when_complete():
    assert clean_description("R&amp;D &#8211; see &parameter and AT&T") == (
        "R&D – see &parameter and AT&T"
    )


def test_formatted_html_description_becomes_markdown():
    description = clean_description(
        "<div>\n  <h2>About</h2>\n  <p>R&D at AT&T &parameter</p>\n  <ul>\n    <li>Go</li>\n"
        "    <li>C++</li>\n  </ul>\n<table><tr><th>Pay</th></tr><tr><td>$50</td></tr></table>"
        "<p>See <a href='https://acme.example/jobs'>our site</a>"
        "<img src='https://tracker.example/pixel.gif'></p></div>"
    )
    # The indentation between tags is not text: no blank line between list items.
    assert description == (
        "## About\n\nR&D at AT&T &parameter\n\n* Go\n* C++\n\n| Pay |\n| --- |\n| $50 |"
        "\n\nSee our site"
    )


def test_mojibake_of_a_no_break_space_is_repaired():
    # UTF-8 "\u00a0" read as cp1252 is "Â\u00a0"; exports often turn the second into a space.
    assert clean_description("ten times.Â In recent years") == "ten times. In recent years"
    assert clean_description("CafÃƒÂ© Worldâ€™s") == "Café World’s"  # mangled twice


def test_title_company_and_location_are_collapsed_and_bounded():
    posting = only_posting(
        title="  Senior \n  Engineer  ", company="x" * 1000, location=" Austin,\tTX "
    )
    assert posting.title == "Senior Engineer"
    assert len(posting.company) <= 300
    assert posting.location == "Austin, TX"


@pytest.mark.parametrize(
    ("interval", "low", "high", "expected"),
    [
        ("hourly", 20, 30, (41_600, 62_400)),
        ("daily", 200, 250, (52_000, 65_000)),
        ("weekly", 1000, 1200, (52_000, 62_400)),
        ("monthly", 5000, 6000, (60_000, 72_000)),
        ("yearly", 90_000, 110_000, (90_000, 110_000)),
        ("yearly", 120_000, 90_000, (90_000, 120_000)),  # swapped on the board
        ("yearly", 0, 100_000, (None, 100_000)),  # non-positive dropped
        ("yearly", -5, np.nan, (None, None)),
        ("yearly", 50, 60, (None, None)),  # a yearly 50 is a parsing accident
        ("hourly", 90_000, 100_000, (None, None)),  # 187 million a year
        (np.nan, 90_000, 100_000, (None, None)),  # no interval: cannot annualize
        ("fortnightly", 3000, 4000, (None, None)),
        ("yearly", "95,000", "$110,000", (95_000, 110_000)),
        ("yearly", "lots", np.inf, (None, None)),
    ],
)
def test_salary_is_annualized(interval, low, high, expected):
    posting = only_posting(
        interval=interval,
        min_amount=low,
        max_amount=high,
        currency="USD",
        salary_source="direct_data",
    )
    assert (posting.salary_min, posting.salary_max) == expected
    has_salary = expected != (None, None)
    assert posting.salary_currency == ("USD" if has_salary else None)
    assert posting.salary_source == ("direct_data" if has_salary else None)


def test_large_salaries_in_weaker_currencies_are_kept():
    posting = only_posting(interval="monthly", min_amount=900_000, currency="JPY")
    assert posting.salary_min == 10_800_000
    assert posting.salary_currency == "JPY"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", None),
        (np.nan, None),
        (None, None),
        (pd.NaT, None),
        ("garbage", "date_unreadable"),
        (12345, "date_unreadable"),
        (20250101, "date_unreadable"),
        ("2025-13-45", "date_impossible"),
        (TODAY + timedelta(days=5), "date_in_future"),
        ((TODAY + timedelta(days=30)).isoformat(), "date_in_future"),
    ],
)
def test_missing_odd_or_future_dates_become_none(value, reason):
    result = normalize_rows(make_row(date_posted=value))
    assert result.postings[0].date_posted is None
    assert result.cleaned == ({reason: 1} if reason else {})


@pytest.mark.parametrize("value", ["1999-12-31", date(1970, 1, 1), "1900-01-01"])
def test_old_dates_are_kept_for_the_recency_filter(value):
    result = normalize_rows(make_row(date_posted=value))
    assert result.postings[0].date_posted.year < 2000
    assert result.cleaned == {}


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-04",
        " 2026-03-04T23:59:00Z",
        "03/04/2026",
        "Mar 4, 2026",
        pd.Timestamp("2026-03-04 10:00"),
        datetime(2026, 3, 4, 10, 0),
        date(2026, 3, 4),
        np.datetime64("2026-03-04"),
    ],
)
def test_readable_dates_are_parsed(value):
    assert only_posting(date_posted=value).date_posted == date(2026, 3, 4)


def test_tomorrow_is_tolerated_for_time_zones():
    assert only_posting(date_posted=TODAY + timedelta(days=1)).date_posted == TODAY + timedelta(1)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"is_remote": True}, True),
        ({"is_remote": "True"}, True),
        ({"is_remote": "false"}, False),
        ({"is_remote": np.bool_(False), "location": "Remote, US"}, False),  # the board decides
        ({"location": "Remote, US"}, True),
        ({"title": "Engineer (Remote)"}, True),
        ({"work_from_home_type": "Remote"}, True),
        ({"work_from_home_type": "Hybrid"}, False),
        ({"is_remote": "maybe"}, None),
        ({}, None),
    ],
)
def test_remote_flag(fields, expected):
    assert only_posting(**fields).is_remote is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("parttime, fulltime", "parttime, fulltime"),
        ("Full-Time, Contract", "fulltime, contract"),
        ("fulltime, fulltime", "fulltime"),
        ("intern", "internship"),
        (np.nan, None),
        ("", None),
    ],
)
def test_job_type(value, expected):
    assert only_posting(job_type=value).job_type == expected


def test_keys_and_lists_fit_their_database_columns():
    posting = only_posting(
        title="Sr " * 150,
        company="Word " * 100,
        location=", ".join(["Somewhere Very Far Away"] * 20),
        job_type=", ".join(f"kind{number}" for number in range(100)),
        id="x" * 500,
    )
    assert len(posting.dedup_key) <= 600
    assert len(posting.job_type) <= 200
    assert len(posting.source_id) <= 200
    assert len(posting.company_key) <= 60


def test_company_fields_are_cleaned_and_bounded():
    posting = only_posting(
        company_industry=" Software\nDevelopment ",
        company_url="https://www.indeed.com/cmp/Acme",
        company_url_direct="acme.example",  # not a URL: dropped
        company_num_employees="",
        company_revenue="$1M to $5M (USD)",
        company_description="x" * 5000,
        company_addresses="1 Main St\r\n\r\n\r\nAustin, TX",
        company_logo="https://logo.example/acme.png",
    )
    fields = dict(posting.company_fields)
    description = fields.pop("description")
    assert fields == {
        "industry": "Software Development",
        "url": "https://www.indeed.com/cmp/Acme",
        "revenue": "$1M to $5M (USD)",
        "addresses": "1 Main St\n\nAustin, TX",
    }
    assert 1000 < len(description) <= 2000


# --------------------------------------------------------------------------------------
# Keys and duplicates


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme, Inc.", "acme"),
        ("ACME Inc", "acme"),
        ("acme", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme L.L.C.", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Lumen Atlas GmbH", "lumen-atlas"),
        ("Revenova, LLC", "revenova"),
        ("Hammer & Nails | Grooming Shop for Guys", "hammer-and-nails-grooming-shop-for-guys"),
        ("Smith & Co.", "smith"),
        ("O'Reilly Auto Parts", "oreilly-auto-parts"),
        ("Children’s Montessori Center Inc", "childrens-montessori-center"),
        ("Société Générale", "societe-generale"),
        ("The Walt Disney Company", "walt-disney"),
        ("J.P. Morgan", "jp-morgan"),
        ("  Bluefjord   Analytics ", "bluefjord-analytics"),
        ("Inc.", "inc"),  # a suffix alone is still a name
    ],
)
def test_company_key(name, expected):
    assert company_key(name) == expected


@pytest.mark.parametrize(
    "name", ["", "   ", "株式会社", "!!!", "a" * 500, "Ünïcödé GmbH", "word " * 40, "nan"]
)
def test_company_key_is_always_a_short_url_safe_slug(name):
    key = company_key(name)
    assert URL_SAFE_SLUG.fullmatch(key), key
    assert 0 < len(key) <= 60
    assert company_key(name) == key


def test_company_key_tells_non_latin_names_apart():
    assert company_key("株式会社") != company_key("有限会社")


def test_dedup_key_matches_the_same_job_across_boards():
    indeed = dedup_key("Acme, Inc.", "Sr. Data Engineer", "Austin, TX, US")
    linkedin = dedup_key("ACME", "Senior Data Engineer", "Austin, TX")
    zip_recruiter = dedup_key("Acme", "Senior  Data Engineer", "austin, tx, USA")
    assert indeed == linkedin == zip_recruiter
    assert dedup_key("Acme", "Senior Data Engineer", "Dallas, TX") != linkedin
    assert dedup_key("Acme", "Data Engineer", "Austin, TX") != linkedin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.indeed.com/viewjob?jk=2ce19c0349be0d74", "in-2ce19c0349be0d74"),
        ("https://uk.indeed.com/viewjob?from=serp&jk=abc123", "in-abc123"),
        ("https://www.linkedin.com/jobs/view/3902366181", "li-3902366181"),
        ("https://www.linkedin.com/jobs/view/engineer-at-acme-3902366181/?trk=x", "li-3902366181"),
        ("https://www.glassdoor.com/job-listing/j?jl=1009245922323", "gd-1009245922323"),
    ],
)
def test_source_id_from_board_urls(url, expected):
    assert source_id_from_url(url) == expected


def test_source_id_falls_back_to_a_hash_of_the_url():
    zip_id = source_id_from_url("https://www.ziprecruiter.com/jobs//j?lvk=M-vcZdcnTNLCutqnbL5d3g")
    other_id = source_id_from_url("https://careers.acme.example/jobs/42")
    assert re.fullmatch(r"zr-[0-9a-f]{16}", zip_id)
    assert re.fullmatch(r"url-[0-9a-f]{16}", other_id)
    assert other_id == source_id_from_url("https://careers.acme.example/jobs/42")
    assert other_id != source_id_from_url("https://careers.acme.example/jobs/43")


def test_same_source_id_keeps_the_copy_with_a_description():
    result = normalize_rows(
        make_row(description=np.nan, location="Austin, TX"),
        make_row(description="Full text", location="Austin, TX, US"),
    )
    assert result.accepted == 1
    assert result.postings[0].description == "Full text"
    assert result.duplicates == 1
    assert result.per_site["indeed"].duplicates == 1


def test_cross_site_duplicate_prefers_description_then_direct_url():
    result = normalize_rows(
        make_row(
            id="li-1",
            site="linkedin",
            job_url="https://www.linkedin.com/jobs/view/1",
            description=np.nan,
            company="ACME",
            location="Austin, TX",
        ),
        make_row(job_url_direct=np.nan, description="From Indeed"),
        make_row(
            id="gd-1",
            site="glassdoor",
            job_url="https://www.glassdoor.com/job-listing/j?jl=1",
            job_url_direct="https://acme.example/careers/1",
            description="From Glassdoor",
        ),
    )
    assert [posting.site for posting in result.postings] == ["glassdoor"]
    assert result.duplicates == 2
    assert result.per_site["linkedin"].duplicates == 1
    assert result.per_site["indeed"].duplicates == 1
    assert result.per_site["glassdoor"].accepted == 1


def test_same_title_in_two_cities_is_two_jobs():
    result = normalize_rows(
        make_row(id="in-1", location="Austin, TX, US"),
        make_row(id="in-2", location="Dallas, TX, US"),
    )
    assert result.accepted == 2
    assert result.duplicates == 0


# --------------------------------------------------------------------------------------
# Raw JSON


def test_raw_json_round_trip_keeps_types_that_matter():
    frame = pd.DataFrame(
        [
            make_row(
                date_posted=date(2026, 3, 1),
                is_remote=True,
                min_amount=30.5,
                interval="hourly",
                currency="USD",
            ),
            make_row(
                id="in-2",
                job_url="https://www.indeed.com/viewjob?jk=2",
                date_posted=pd.Timestamp("2026-03-02 08:00"),
                is_remote=np.nan,
                min_amount=np.inf,
                description="Emoji \U0001f680 and \x00 NUL",
            ),
            make_row(id="in-3", title=None),
        ]
    )
    text = frame_to_json(frame)

    assert text.isascii()
    assert "NaN" not in text and "Infinity" not in text
    rebuilt = frame_from_json(text)
    assert normalize_frame(rebuilt, today=TODAY).postings == (
        normalize_frame(frame, today=TODAY).postings
    )
    assert rebuilt.loc[0, "date_posted"] == "2026-03-01"
    assert math.isclose(rebuilt.loc[0, "min_amount"], 30.5)


def test_raw_json_round_trip_of_an_empty_frame():
    frame = pd.DataFrame(columns=list(JOBSPY_COLUMNS))
    rebuilt = frame_from_json(frame_to_json(frame))
    assert list(rebuilt.columns) == list(JOBSPY_COLUMNS)
    assert rebuilt.empty


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"rows": []}', '{"format": "other"}'])
def test_raw_json_rejects_other_text(text):
    with pytest.raises(ValueError):
        frame_from_json(text)
