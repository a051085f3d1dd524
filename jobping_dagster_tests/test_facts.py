"""posting_facts: every rule on hand-made postings, then the real jobspy exports and storage."""

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import jobs
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.facts import PostingFacts, posting_facts
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster_tests.builders import posting, store_postings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
JOBSPY = SHARED / "jobspy"
DEV_JOBS = SHARED / "labels" / "dev_jobs.jsonl"
TODAY = date(2026, 3, 10)
# A description long enough to be read, saying nothing about where the work happens.
PLAIN = "You will build and run our services with the team and your customers. " * 4
# What a reader would call a mention of remote work, independent of the module's patterns.
MENTIONS_REMOTE = re.compile(r"remote|work from home|wfh|telecommut", re.I)


def job(**fields):
    """A Posting saying nothing about place, mode, level, contract, pay, language."""
    values = dict(location=None, is_remote=None, description="", title="Backend Engineer")
    return replace(posting(1), **{**values, **fields})


@pytest.mark.parametrize(
    "location, expected",
    [
        ("Jersey City, NJ, US", ("US", "NJ", "Jersey City")),
        ("Chicago, IL, USA", ("US", "IL", "Chicago")),
        ("Missouri, United States", ("US", "MO", None)),
        ("New York, NY", ("US", "NY", "New York")),
        ("Austin, TX", ("US", "TX", "Austin")),
        ("Texas", ("US", "TX", None)),
        ("CA, US", ("US", "CA", None)),
        ("United States", ("US", None, None)),
        ("Remote, US", ("US", None, None)),
        ("Remote in Austin, TX 78701", ("US", "TX", "Austin")),
        # Ambiguous codes: the shape of the string decides, or nothing is known.
        ("San Jose, CA", ("US", "CA", "San Jose")),
        ("Toronto, ON, CA", ("CA", "ON", "Toronto")),
        ("Toronto, ON", ("CA", "ON", "Toronto")),
        ("Indianapolis, IN", ("US", "IN", "Indianapolis")),
        ("Bengaluru, KA, IN", ("IN", "KA", "Bengaluru")),
        ("Denver, CO", ("US", "CO", "Denver")),
        ("CA", (None, None, None)),
        ("IN", (None, None, None)),
        ("DE", (None, None, None)),
        # Abroad.
        ("Berlin, BE, DE", ("DE", "BE", "Berlin")),
        ("Berlin, Germany", ("DE", None, "Berlin")),
        ("London, England, UK", ("GB", None, "London")),
        ("Paris, FR", ("FR", None, "Paris")),
        # Nothing to read, or nothing we can read safely.
        ("Remote", (None, None, None)),
        ("", (None, None, None)),
        (None, (None, None, None)),
        ("Springfield, XX, YY", (None, None, None)),
        ("Somewhere nice", (None, None, None)),
    ],
)
def test_place_from_the_location_as_jobspy_writes_it(location, expected):
    facts = posting_facts(job(location=location))
    assert (facts.country, facts.region, facts.city) == expected


@pytest.mark.parametrize(
    "fields, mode",
    [
        (dict(is_remote=True), "remote"),
        (dict(title="Backend Engineer (Remote)"), "remote"),
        (dict(location="Remote, US"), "remote"),
        (dict(title="Backend Engineer - Hybrid", is_remote=True), "hybrid"),
        (dict(description="Hybrid work: three days a week in the office. " + PLAIN), "hybrid"),
        (dict(description="We work 2 days per week in our office. " + PLAIN), "hybrid"),
        (dict(description="We run a hybrid cloud platform. " + PLAIN), "unknown"),
        (dict(description="Remote and hybrid work options. " + PLAIN), "unknown"),
        # is_remote=False is often jobspy's default: a remote mention outweighs it.
        (dict(is_remote=False, description="This is a remote role. " + PLAIN), "unknown"),
        (dict(is_remote=False, description="Work from home twice a month. " + PLAIN), "unknown"),
        (dict(is_remote=False, description=PLAIN), "onsite"),
        (dict(is_remote=False, description="Short."), "unknown"),
        (dict(is_remote=False), "unknown"),
        # Positive evidence of the office.
        (dict(description="This is an on-site position. " + PLAIN), "onsite"),
        (dict(description="This role is 100% onsite in Austin. " + PLAIN), "onsite"),
        (dict(description=PLAIN + "Work Location: In person"), "onsite"),
        (dict(title=".NET Developer - On Site"), "onsite"),
        (dict(description="This is not a remote position; work on-site. " + PLAIN), "onsite"),
        # Office words that are not a way of working, and no evidence at all.
        (dict(description="Provide on-site support to customers. " + PLAIN), "unknown"),
        (dict(description=PLAIN), "unknown"),
        (dict(), "unknown"),
    ],
)
def test_work_mode_needs_evidence(fields, mode):
    assert posting_facts(job(**fields)).work_mode == mode


@pytest.mark.parametrize(
    "title, level",
    [
        ("Software Engineering Intern", "intern"),
        ("Summer Internship - Data", "intern"),
        ("Junior Developer", "junior"),
        ("Jr. Software Engineer", "junior"),
        ("Entry-Level Analyst", "junior"),
        ("Software Engineer - New Grad 2025", "junior"),
        ("Software Engineer I", "junior"),
        ("Software Engineer II", "mid"),
        ("Mid-Level Software Engineer", "mid"),
        ("Senior Data Engineer", "senior"),
        ("Sr Backend Developer", "senior"),
        ("Software Engineer III - AWS", "senior"),
        ("Sr. Software Engineer I", "senior"),  # the word outranks the numeral
        ("Lead Software Engineer", "lead"),
        ("Senior Staff Software Engineer", "lead"),
        ("Principal Engineer", "principal"),
        ("Distinguished Engineer", "principal"),
        # Not stated, or not one level.
        ("Software Engineer", None),
        ("Staff Accountant", None),
        ("Solutions Architect", None),
        ("Web Developer - Jr to Mid Level", None),
        ("Registered Nurse", None),
    ],
)
def test_seniority_from_the_title(title, level):
    assert posting_facts(job(title=title)).seniority == level


@pytest.mark.parametrize(
    "job_type, types",
    [
        ("fulltime, contract", ("fulltime", "contract")),
        ("parttime, fulltime, internship", ("parttime", "fulltime", "internship")),
        ("temporary", ("temporary",)),
        ("Full-Time, fulltime", ("fulltime",)),
        ("volunteer", ()),
        (None, ()),
    ],
)
def test_employment_types_from_job_type(job_type, types):
    assert posting_facts(job(job_type=job_type)).employment_types == types


@pytest.mark.parametrize(
    "low, high, currency, expected",
    [
        (90_000.0, 120_000.0, "usd", (90_000.0, 120_000.0, "USD")),
        (120_000.0, 90_000.0, "USD", (90_000.0, 120_000.0, "USD")),
        (90_000.0, None, "EUR", (90_000.0, None, "EUR")),
        (6_000_000.0, 9_000_000.0, "JPY", (6_000_000.0, 9_000_000.0, "JPY")),
        (-5.0, 80_000.0, "USD", (None, 80_000.0, "USD")),
        (0.0, 0.0, "USD", (None, None, None)),
        (float("inf"), float("nan"), "USD", (None, None, None)),
        (1e12, 2e12, "USD", (None, None, None)),
        (20.0, 25.0, "USD", (None, None, None)),  # an hourly rate is no annual pay
        (90_000.0, 120_000.0, "$$", (90_000.0, 120_000.0, None)),
        (None, None, "USD", (None, None, None)),
    ],
)
def test_salary_is_plausible_annual_pay(low, high, currency, expected):
    facts = posting_facts(job(salary_min=low, salary_max=high, salary_currency=currency))
    assert (facts.salary_min, facts.salary_max, facts.salary_currency) == expected


@pytest.mark.parametrize(
    "text, language",
    [
        ("We are looking for an engineer who will work with the team and our customers. ", "en"),
        ("Wir suchen eine Entwicklerin, die mit dem Team und unseren Kunden arbeitet. ", "de"),
        ("Nous recherchons un développeur pour notre équipe et vous serez dans le projet. ", "fr"),
        ("Buscamos una persona para el equipo de desarrollo con experiencia en los datos. ", "es"),
        ("Wij zoeken een ontwikkelaar voor het team met ervaring in de bouw van onze apps. ", "nl"),
        ("Cerchiamo uno sviluppatore per il team della nostra azienda che sono nel gruppo. ", "it"),
        ("Procuramos um desenvolvedor com experiência para o nosso time na empresa. ", "pt"),
        ("Python Django PostgreSQL Kubernetes Terraform AWS Docker React TypeScript. ", None),
    ],
)
def test_language_by_stop_words(text, language):
    assert posting_facts(job(description=text * 4)).language == language


def test_short_or_empty_description_has_no_language():
    assert posting_facts(job(description="We are hiring for the team.")).language is None
    assert posting_facts(job(description="")).language is None


def test_reads_only_attributes_like_a_jobs_row():
    row = SimpleNamespace(
        title="Senior Backend Engineer",
        company="Acme",
        location="Chicago, IL, USA",
        is_remote=None,
        job_type="fulltime",
        salary_min=150_000.0,
        salary_max=None,
        salary_currency="USD",
        description=None,
        company_fields=None,
    )
    facts = posting_facts(row)
    assert (facts.country, facts.seniority, facts.salary_min) == ("US", "senior", 150_000.0)
    assert facts.work_mode == "unknown" and facts.language is None


def test_facts_are_stored_with_each_new_posting(engine):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    first = job(location="Toronto, ON, CA", title="Staff Software Engineer", is_remote=True)
    store_postings(engine, [first, posting(2, location=None, is_remote=None, description="")], now)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(jobs).order_by(jobs.c.source_id)).all()
    stored = [PostingFacts.model_validate(row.facts) for row in rows]
    assert (stored[0].country, stored[0].region, stored[0].work_mode) == ("CA", "ON", "remote")
    assert stored[0].seniority == "lead"
    assert stored[1] == PostingFacts(seniority=None)  # nothing known, nothing invented
    # A jobs row has the same attributes: reading it again gives the stored facts.
    assert posting_facts(rows[0]) == stored[0]


@pytest.fixture(scope="module")
def exported():
    if not JOBSPY.is_dir():
        pytest.skip("shared jobspy fixtures are not checked out next to the repo")
    postings = []
    for path in sorted(JOBSPY.glob("*.csv")):
        postings += normalize_frame(read_jobspy_csv(path), today=TODAY).postings
    return [(p, posting_facts(p)) for p in postings]


def test_real_exports_give_well_formed_facts(exported):
    assert len(exported) > 400
    for _, facts in exported:
        assert facts.country is None or re.fullmatch(r"[A-Z]{2}", facts.country)
        assert facts.region is None or re.fullmatch(r"[A-Z0-9]{1,3}", facts.region)
        assert facts.salary_currency is None or re.fullmatch(r"[A-Z]{3}", facts.salary_currency)
        if facts.salary_min is not None and facts.salary_max is not None:
            assert 0 < facts.salary_min <= facts.salary_max
        assert PostingFacts.model_validate(facts.model_dump(mode="json")) == facts


def test_real_exports_are_read_as_us_postings(exported):
    # Both exports searched US boards: a location is a US place, spelled many ways.
    located = [facts for p, facts in exported if p.location]
    assert sum(facts.country == "US" for facts in located) >= 0.95 * len(located)
    assert {facts.country for facts in located} <= {"US", None}
    unlocated = [facts for p, facts in exported if not p.location]
    assert all(facts.country is None for facts in unlocated)
    assert sum(facts.region is not None for facts in located) >= 0.85 * len(located)


def test_real_exports_never_call_a_remote_mention_onsite(exported):
    modes = Counter(facts.work_mode for _, facts in exported)
    assert modes["remote"] >= 50 and modes["onsite"] >= 30 and modes["unknown"] >= 100
    for p, facts in exported:
        text = f"{p.title} {p.location or ''} {p.description}"
        if facts.work_mode == "onsite":
            assert not MENTIONS_REMOTE.search(text), p.title
        if p.is_remote:
            assert facts.work_mode in ("remote", "hybrid"), p.title


def test_real_exports_have_english_descriptions_and_known_contracts(exported):
    described = [facts for p, facts in exported if len(p.description) >= 500]
    assert sum(facts.language == "en" for facts in described) >= 0.95 * len(described)
    assert {facts.language for _, facts in exported} <= {"en", None}
    typed = [facts for p, facts in exported if p.job_type]
    assert all(facts.employment_types for facts in typed)


@pytest.fixture(scope="module")
def dev_jobs():
    if not DEV_JOBS.is_file():
        pytest.skip("shared labelled postings are not checked out next to the repo")
    with DEV_JOBS.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _as_row(record: dict) -> SimpleNamespace:
    """A dev_jobs.jsonl record in the attribute shape of a Posting."""
    match = re.fullmatch(r"([\d.]+)-([\d.]+) ([A-Z]{3}) yearly", record.get("salary") or "")
    low, high, currency = (float(match[1]), float(match[2]), match[3]) if match else (None,) * 3
    return SimpleNamespace(
        title=record["title"],
        company=record["company"],
        location=record["location"] or None,
        is_remote={"True": True, "False": False}.get(record["is_remote"]),
        job_type=record["job_type"] or None,
        salary_min=low,
        salary_max=high,
        salary_currency=currency,
        description=record["description"] or "",
        company_fields={},
    )


def test_labelled_dev_postings(dev_jobs):
    rows = [_as_row(record) for record in dev_jobs]
    facts = [posting_facts(row) for row in rows]
    located = [f for row, f in zip(rows, facts, strict=True) if row.location]
    assert sum(f.country == "US" for f in located) >= 0.95 * len(located)
    for row, f in zip(rows, facts, strict=True):
        if row.is_remote:
            assert f.work_mode in ("remote", "hybrid"), row.title
        if f.work_mode == "onsite":
            assert not MENTIONS_REMOTE.search(f"{row.title} {row.location} {row.description}")
        if row.salary_min is not None:
            assert f.salary_currency == "USD" and f.salary_min == row.salary_min
    assert sum(f.seniority is not None for f in facts) >= 0.3 * len(facts)
