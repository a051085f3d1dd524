"""Posting facts by rules: each rule, unknown staying unknown, and the real jobspy exports."""

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import jobs
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.facts import PostingFacts, posting_facts
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster_tests.builders import posting, store_postings

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"
LONG = "You will build and run our services with a friendly team. " * 5


@pytest.mark.parametrize(
    "location, country, region, city",
    [
        ("Jersey City, NJ, US", "US", "NJ", "Jersey City"),
        ("Chicago, IL, USA", "US", "IL", "Chicago"),
        ("Missouri, United States", "US", None, None),
        ("San Jose, CA", "US", "CA", "San Jose"),
        ("Toronto, ON, CA", "CA", "ON", "Toronto"),
        ("Berlin, BE, DE", "DE", None, "Berlin"),
        ("London, England, UK", "GB", None, "London"),
        ("Remote", None, None, None),
        (None, None, None, None),
    ],
)
def test_place_from_the_location_as_jobspy_writes_it(location, country, region, city):
    facts = posting_facts(posting(1, location=location, is_remote=None))
    assert facts.country == country
    if region:
        assert facts.region == region
    if city:
        assert facts.city == city


@pytest.mark.parametrize(
    "is_remote, title, description, mode",
    [
        (True, "Backend Engineer", "", "remote"),
        (None, "Backend Engineer (Remote)", "", "remote"),
        (None, "Backend Engineer", "Hybrid: three days a week in our office. " + LONG, "hybrid"),
        (False, "Backend Engineer", "This is a fully remote role. " + LONG, "unknown"),
        (False, "Backend Engineer", LONG, "onsite"),
        (False, "Backend Engineer", "Short.", "unknown"),  # is_remote=False is often a default
        (None, "Backend Engineer", "This is an on-site position in Austin. " + LONG, "onsite"),
        (None, "Backend Engineer", LONG, "unknown"),
    ],
)
def test_work_mode_needs_evidence_and_unknown_stays_unknown(is_remote, title, description, mode):
    job = posting(
        1, title=title, description=description, is_remote=is_remote, location="Austin, TX"
    )
    assert posting_facts(job).work_mode == mode


@pytest.mark.parametrize(
    "title, level",
    [
        ("Senior Data Engineer", "senior"),
        ("Sr. Backend Developer", "senior"),
        ("Software Engineer III", "senior"),
        ("Staff Software Engineer", "lead"),
        ("Software Engineering Intern", "intern"),
        ("Entry Level Developer", "junior"),
        ("Registered Nurse", None),
    ],
)
def test_seniority_from_the_title(title, level):
    job = posting(1, title=title)
    assert posting_facts(job.__class__(**{**job.__dict__, "title": title})).seniority == level


def test_salary_currency_types_and_implausible_pay():
    job = posting(
        1,
        salary_min=90_000.0,
        salary_max=120_000.0,
        salary_currency="usd",
        job_type="fulltime, contract",
    )
    facts = posting_facts(job)
    assert (facts.salary_min, facts.salary_max, facts.salary_currency) == (90_000, 120_000, "USD")
    assert facts.employment_types == ("fulltime", "contract")
    for bad in (-5.0, 0.0, float("inf"), 1e12):
        odd = posting_facts(posting(1, salary_min=bad, salary_max=bad, salary_currency="USD"))
        assert odd.salary_min is None and odd.salary_max is None


def test_language_of_the_description():
    english = "We are looking for an engineer who will work with the team and our customers. " * 3
    german = (
        "Wir suchen eine Entwicklerin, die mit dem Team und unseren Kunden arbeitet und die " * 3
    )
    assert posting_facts(posting(1, description=english)).language == "en"
    assert posting_facts(posting(1, description=german)).language == "de"
    assert posting_facts(posting(1, description="")).language is None


def test_facts_are_stored_with_each_new_posting(engine):
    store_postings(engine, [posting(1, location="Chicago, IL, USA", is_remote=True)], utcnow())
    with engine.connect() as conn:
        stored = conn.execute(sa.select(jobs.c.facts)).scalar_one()
    facts = PostingFacts.model_validate(stored)
    assert (facts.country, facts.work_mode) == ("US", "remote")


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared fixtures not present")
def test_real_jobspy_exports():
    postings = []
    for path in sorted(FIXTURES.glob("*.csv")):
        postings += normalize_frame(read_jobspy_csv(path), today=date(2026, 12, 2)).postings
    facts = [posting_facts(p) for p in postings]
    assert len(facts) > 300
    assert all(f.country is None or (len(f.country) == 2 and f.country.isupper()) for f in facts)
    located = [f for p, f in zip(postings, facts, strict=True) if p.location]
    # Both exports searched US boards: most located postings are read as US.
    assert sum(f.country == "US" for f in located) > 0.8 * len(located)
    # A posting that says "remote" in its title or location is never read as on-site.
    for p, f in zip(postings, facts, strict=True):
        if "remote" in f"{p.title} {p.location}".lower():
            assert f.work_mode != "onsite", p.title
