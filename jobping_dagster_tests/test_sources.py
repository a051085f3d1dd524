"""Job sources (jobspy with a fake scrape function, the sample) and the sample dataset."""

import re
from collections import Counter
from datetime import date, timedelta

import dagster as dg
import pandas as pd
import pytest
from pydantic import ValidationError

from jobping_dagster.postings import sources
from jobping_dagster.postings.keys import company_key
from jobping_dagster.postings.model import SiteScrape
from jobping_dagster.postings.normalize import JOBSPY_COLUMNS, normalize_frame
from jobping_dagster.postings.salary import ANNUAL_FACTORS
from jobping_dagster.postings.sample import load_sample_document, load_sample_frame
from jobping_dagster.postings.sources import JobSource, JobSpySource, SampleJobSource

DAY = date(2026, 3, 10)
ROLES = (
    "backend", "frontend", "data engineer", "machine learning", "devops", "reliability",
    "product manager", "designer", "data analyst", "support",
)  # fmt: skip


def board_frame(site: str, count: int, term: str = "python") -> pd.DataFrame:
    rows = []
    for number in range(count):
        row = dict.fromkeys(JOBSPY_COLUMNS)
        row.update(
            id=f"{site[:2]}-{term}-{number}",
            site=site,
            job_url=f"https://{site}.example/jobs/{term}-{number}",
            title=f"{term} engineer {number}",
            company="Acme",
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(JOBSPY_COLUMNS))
    frame.attrs = {"errors": {}, "warnings": {}}
    return frame


class FakeBoards:
    """Stands in for jobspy.scrape_jobs: rows, a block or an exception per site."""

    def __init__(self, rows_per_site=None, blocked=None, raising=None, warnings=None):
        self.rows_per_site = rows_per_site or {}
        self.blocked = blocked or {}
        self.raising = raising or {}
        self.warnings = warnings or {}
        self.calls: list[dict] = []

    def __call__(self, **kwargs) -> pd.DataFrame:
        self.calls.append(kwargs)
        (site,) = kwargs["site_name"]
        if site in self.raising:
            raise self.raising[site]
        frame = board_frame(site, self.rows_per_site.get(site, 0), kwargs["search_term"])
        if site in self.blocked:
            frame = board_frame(site, 0)
            frame.attrs["errors"] = {site: self.blocked[site]}
        if site in self.warnings:
            frame.attrs["warnings"] = {site: list(self.warnings[site])}
        return frame


@pytest.fixture
def fake_boards(monkeypatch):
    def install(**options) -> FakeBoards:
        fake = FakeBoards(**options)
        monkeypatch.setattr(sources, "scrape_jobs", fake)
        return fake

    return install


def by_site(scrapes: list[SiteScrape]) -> dict[str, SiteScrape]:
    return {scrape.site: scrape for scrape in scrapes}


# --------------------------------------------------------------------------------------
# JobSpySource


def test_one_call_per_site_and_search_term(fake_boards):
    fake = fake_boards(rows_per_site={"indeed": 3, "linkedin": 2})
    source = JobSpySource(
        search_terms=["python", "data"],
        location="Austin, TX",
        results_wanted=20,
        hours_old=48,
        fetch_description=True,
        is_remote=True,
        country_indeed="us",
    )

    scrapes = by_site(source.fetch(DAY))

    assert sorted((call["site_name"][0], call["search_term"]) for call in fake.calls) == [
        ("indeed", "data"),
        ("indeed", "python"),
        ("linkedin", "data"),
        ("linkedin", "python"),
    ]
    first = fake.calls[0]
    assert first["location"] == "Austin, TX"
    assert first["results_wanted"] == 20
    assert first["hours_old"] == 48
    assert first["fetch_description"] is True
    assert first["is_remote"] is True
    assert first["country_indeed"] == "usa"
    assert "proxies" not in first
    # A site's frames are concatenated across search terms.
    assert len(scrapes["indeed"].frame) == 6
    assert len(scrapes["linkedin"].frame) == 4
    assert not scrapes["indeed"].blocked and not scrapes["linkedin"].blocked
    assert scrapes["indeed"].frame.index.is_unique


def test_blocked_site_is_reported_and_the_other_comes_through(fake_boards):
    fake_boards(
        rows_per_site={"indeed": 4, "linkedin": 5},
        blocked={"linkedin": "unexpected page with no jobs (blocked?)"},
        warnings={"linkedin": ["is_remote isn't supported, ignoring it"]},
    )
    scrapes = by_site(JobSpySource(search_terms=["python"]).fetch(DAY))

    assert scrapes["linkedin"].blocked
    assert scrapes["linkedin"].error == "unexpected page with no jobs (blocked?)"
    assert scrapes["linkedin"].frame.empty
    assert scrapes["linkedin"].warnings == ["is_remote isn't supported, ignoring it"]
    assert not scrapes["indeed"].blocked
    assert len(scrapes["indeed"].frame) == 4


def test_empty_result_is_not_blocked(fake_boards):
    fake_boards()
    scrapes = by_site(JobSpySource(search_terms=["python"]).fetch(DAY))

    assert not scrapes["indeed"].blocked
    assert scrapes["indeed"].frame.empty
    assert list(scrapes["indeed"].frame.columns) == list(JOBSPY_COLUMNS)


def test_exception_in_one_site_is_isolated(fake_boards):
    fake_boards(
        rows_per_site={"indeed": 2, "linkedin": 3},
        raising={"indeed": ConnectionError("proxy http://bob:hunter2@10.0.0.1:8080 refused\n...")},
    )
    scrapes = by_site(JobSpySource(search_terms=["python"]).fetch(DAY))

    error = scrapes["indeed"].error
    assert error.startswith("ConnectionError: proxy http://")
    assert "hunter2" not in error and "bob" not in error
    assert "\n" not in error
    assert scrapes["indeed"].frame.empty
    assert len(scrapes["linkedin"].frame) == 3
    assert not scrapes["linkedin"].blocked


def test_failed_search_term_keeps_the_rows_of_the_others(fake_boards, monkeypatch):
    fake = FakeBoards(rows_per_site={"indeed": 2})

    def flaky(**kwargs):
        if kwargs["search_term"] == "data":
            raise TimeoutError("read timed out")
        return fake(**kwargs)

    monkeypatch.setattr(sources, "scrape_jobs", flaky)
    (scrape,) = JobSpySource(sites=["indeed"], search_terms=["python", "data"]).fetch(DAY)

    assert len(scrape.frame) == 2
    assert scrape.error == "'data': TimeoutError: read timed out"


@pytest.mark.parametrize(
    "message",
    [
        "Cannot connect to proxy http://bob:hunter2@10.0.0.1:8080",
        "Cannot connect to proxy bob:hunter2@10.0.0.1:8080",
        "proxy https://hunter2@proxy.example refused",
    ],
)
def test_errors_never_show_proxy_credentials(message):
    error = sources.safe_error(OSError(message))
    assert error.startswith("OSError: ")
    assert "hunter2" not in error
    assert "10.0.0.1:8080" in error or "proxy.example" in error


def test_long_errors_are_shortened(fake_boards):
    fake_boards(blocked={"indeed": "403 " + "x" * 5000})
    (scrape,) = JobSpySource(sites=["indeed"], search_terms=["python"]).fetch(DAY)
    assert len(scrape.error) <= sources.MAX_ERROR_CHARS


def test_fetch_never_reaches_the_real_jobspy(fake_boards, monkeypatch):
    def no_network(**kwargs):
        raise AssertionError("the real jobspy was called")

    monkeypatch.setattr(sources.jobspy, "scrape_jobs", no_network)
    fake_boards(rows_per_site={"indeed": 1})
    (scrape,) = JobSpySource(sites=["indeed"], search_terms=["python"]).fetch(DAY)
    assert len(scrape.frame) == 1


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"sites": ["indeed", "monster"]}, "sites", "monster"),
        ({"sites": ["google"]}, "sites", "google"),
        ({"sites": []}, "sites", "at least one"),
        ({"search_terms": [" ", ""]}, "search_terms", "at least one"),
        ({"results_wanted": 0}, "results_wanted", "at least 1"),
        ({"hours_old": -1}, "hours_old", "0 or more"),
        ({"country_indeed": "atlantis"}, "country_indeed", "atlantis"),
    ],
)
def test_invalid_configuration_names_the_field(config, field, message):
    with pytest.raises(ValidationError) as raised:
        JobSpySource(**{"search_terms": ["python"], **config})
    (error,) = raised.value.errors()
    assert error["loc"] == (field,)
    assert message in str(raised.value)


def test_sites_and_terms_are_tidied():
    source = JobSpySource(sites=[" Indeed", "linkedin", "indeed"], search_terms=[" python "])
    assert source.sites == ["indeed", "linkedin"]
    assert source.search_terms == ["python"]
    assert source.name == "jobspy"
    assert set(sources.KNOWN_SITES) >= {"indeed", "linkedin", "glassdoor", "zip_recruiter"}


def test_base_source_is_abstract():
    with pytest.raises(NotImplementedError):
        JobSource().fetch(DAY)


def test_sources_work_as_dagster_resources(fake_boards):
    fake_boards(rows_per_site={"indeed": 2, "linkedin": 1})

    @dg.asset
    def scraped_rows(job_source: JobSource) -> dict[str, int]:
        return {scrape.site: len(scrape.frame) for scrape in job_source.fetch(DAY)}

    live = dg.materialize(
        [scraped_rows], resources={"job_source": JobSpySource(search_terms=["python"])}
    )
    assert live.output_for_node("scraped_rows") == {"indeed": 2, "linkedin": 1}
    sample = dg.materialize([scraped_rows], resources={"job_source": SampleJobSource()})
    assert sample.success
    assert set(sample.output_for_node("scraped_rows")) == {"indeed", "linkedin"}


# --------------------------------------------------------------------------------------
# The sample dataset


@pytest.fixture(scope="module")
def sample_document() -> dict:
    return load_sample_document()


@pytest.fixture(scope="module")
def sample_frame() -> pd.DataFrame:
    return pd.concat(load_sample_frame(DAY).values(), ignore_index=True)


def test_sample_source_returns_one_clean_scrape_per_site():
    source = SampleJobSource()
    scrapes = by_site(source.fetch(DAY))

    assert source.name == "sample"
    assert set(scrapes) == {"indeed", "linkedin"}
    for site, scrape in scrapes.items():
        assert not scrape.blocked
        assert list(scrape.frame.columns) == list(JOBSPY_COLUMNS)
        assert set(scrape.frame["site"]) == {site}


def test_sample_size_and_variety(sample_document, sample_frame):
    postings = sample_document["postings"]
    assert len(sample_frame) == len(postings) >= 66
    companies = {company_key(name) for name in sample_frame["company"].dropna()}
    assert len(companies) >= 16
    assert len({posting["days_ago"] for posting in postings}) >= 5
    assert all(0 <= posting["days_ago"] <= 6 for posting in postings)
    titles = " ".join(sample_frame["title"]).lower()
    for word in ("intern", "junior", "senior", "staff", "lead", "principal", "manager"):
        assert word in titles, word
    for role in ROLES:
        assert role in titles, role
    assert set(sample_frame["interval"].dropna()) == set(ANNUAL_FACTORS)
    assert Counter(sample_frame["currency"].dropna().str.upper()).most_common(1)[0][0] == "USD"
    assert {"EUR", "GBP"} <= set(sample_frame["currency"].dropna())
    remote = sample_frame["is_remote"].map(lambda value: value in (True, "True"))
    assert 0 < remote.sum() < len(sample_frame) / 2


def test_sample_descriptions_look_like_jobspy_markdown(sample_frame):
    descriptions = sample_frame["description"].fillna("")
    non_empty = descriptions[descriptions != ""]
    assert len(non_empty) >= len(sample_frame) - 2  # LinkedIn rows may lack one
    assert non_empty.str.len().between(200, 1200).all()
    assert non_empty.str.contains("\\-", regex=False).sum() >= 10
    assert non_empty.str.contains("**", regex=False).sum() >= 30


def test_sample_dates_and_ids(sample_document):
    frames = load_sample_frame(DAY)
    again = load_sample_frame(DAY + timedelta(days=1))

    for site, frame in frames.items():
        assert frame["id"].is_unique
        assert frame["id"].str.fullmatch(rf"{site[:2]}-sample-\d{{4}}").all()
        assert list(frame["id"]) == list(again[site]["id"])  # stable from day to day
    days_ago = [posting["days_ago"] for posting in sample_document["postings"]]
    combined = pd.concat(frames.values()).sort_values("id", key=lambda ids: ids.str[-4:])
    assert list(combined["date_posted"]) == [DAY - timedelta(days=days) for days in days_ago]


def test_sample_company_facts_are_consistent(sample_frame):
    facts = ["company_industry", "company_num_employees", "company_description", "company_url"]
    with_facts = sample_frame.dropna(subset=["company_industry"])
    assert len(with_facts) > 0.8 * len(sample_frame)
    for company, rows in with_facts.groupby("company"):
        assert len(rows[facts].drop_duplicates()) == 1, company
        assert re.fullmatch(r"https://www\.[a-z]+\.example", rows["company_url"].iloc[0])


def test_sample_normalizes_with_the_planted_problems(sample_frame):
    result = normalize_frame(sample_frame, today=DAY)

    # Planted: a LinkedIn row without company, an Indeed row without URL, and two jobs
    # posted on both boards.
    assert result.rejected == {"missing_company": 1, "missing_url": 1}
    assert result.duplicates == 2
    assert result.per_site["linkedin"].duplicates == 2
    assert result.accepted == len(sample_frame) - 4
    for company, title in [
        ("pinecrest-payments", "Senior Frontend Engineer"),
        ("saffron-and-sage-foods", "Data Analyst"),
    ]:
        copies = [p for p in result.postings if (p.company_key, p.title) == (company, title)]
        assert [posting.site for posting in copies] == ["indeed"], company
        assert copies[0].description and copies[0].url_direct

    messy = next(p for p in result.postings if p.title == "Senior Data Engineer")
    assert messy.company == "Bluefjord Analytics"
    assert messy.company_key == "bluefjord-analytics"
    assert "We’re growing" in messy.description and "\r" not in messy.description
    assert messy.is_remote is True
    assert messy.salary_currency == "USD"
    swapped = next(p for p in result.postings if p.title == "Backend Engineer, Payouts")
    assert (swapped.salary_min, swapped.salary_max) == (130_000, 160_000)
    assert result.cleaned == {"salary_min_above_max": 1}  # the only planted field problem
    html = next(p for p in result.postings if p.title == "Frontend Developer")
    assert "<" not in html.description and "vision & a 401(k)" in html.description
    assert all(posting.date_posted is not None for posting in result.postings)
