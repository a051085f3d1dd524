"""Reads a user's free-text wish into a WishProfile without any network: the local reader.

It uses the local scorer's tokenizer and vocabulary (`vocabulary.py`), so what it reads is what
the keyword scorer and the pre-filter compare. It reads conservatively, because a wrong
constraint silently loses matches while a missed one only costs ranking:

- Places: countries and regions become ISO codes ("Europe" and "EU" both become every
  European country, EU or not: a seeker saying "EU" rarely means "not the UK or
  Switzerland"); US states and "the Midwest" become US. A named city goes to `cities`, and
  its country goes to `countries` unless the seeker also names a country the city may be in
  ("Chicago or remote in the US" gives US once; "Berlin or the US" gives DE and US, so
  Berlin postings are not dropped; "Cambridge" alone gives GB and US). Places the seeker
  avoids, and regions too wide to be a country list (EMEA, APAC, ...), gate nothing.
- Remote: `remote_only` only for "fully remote", "remote only", "100% remote" and the like,
  or for remote with on-site (or hybrid) refused. "Chicago or remote" is not remote-only.
- Salary: the lowest yearly amount named; hourly rates are not used. Without a currency,
  the currency of the named countries is assumed when they share one (else none, which
  compares with nothing).
- Exclusions: negated words become phrases ("not software engineering" ->
  "software engineering"), one per item of "no X or Y". A negation reaches over a list
  "no X, Y or Z" / "no X, Y and Z"; otherwise "and", "but", "with" and punctuation end it.
  Industries (crypto, gambling, agencies, ...) go to `excluded_industries`, capitalized names
  and well-known employers to `excluded_companies`, everything else to `excluded_roles`.
- Roles are phrases ending in a job noun ("backend engineer", "real estate agent"); "A, B or
  C engineer" gives "A engineer", "B engineer", "C engineer". Tools in a role are skills too
  ("Java backend engineer": role "backend engineer", skill "java"). Other phrases are
  skills.
  Neither holds places, salary words, seniority, filler or excluded phrases.
- Anything not understood gets a short sentence in `notes`.
"""

from __future__ import annotations

from jobping_dagster.llm.local.salary import extract_salary
from jobping_dagster.llm.local.vocabulary import SENIORITY_RANK, normalize, raw_tokens
from jobping_dagster.llm.local.wish_phrases import classify_phrases, dedupe
from jobping_dagster.llm.local.wish_places import CURRENCY_OF
from jobping_dagster.llm.local.wish_tokens import WishTokenReader
from jobping_dagster.llm.local.wish_vocabulary import CASED, HOURLY, JOIN_PATTERNS
from jobping_dagster.llm.models import WishProfile

LOCAL_WISHES_PARSER = "local-wishes-v1"

MAX_PROMPT_CHARS = 4000


def read_wishes_locally(prompt: str) -> WishProfile:
    """The structured wish, read by keyword rules. Deterministic; never raises."""
    original = (prompt or "")[:MAX_PROMPT_CHARS]
    if not original.strip():
        return WishProfile(notes=["The wish is empty, so nothing is filtered."])
    notes: list[str] = []
    text, hourly = _joined_text(original)
    floor, currency, text = extract_salary(text)
    tokens = raw_tokens(normalize(text))
    reader = WishTokenReader(tokens)
    reader.run()

    countries, cities = _places(reader)
    if floor is None and "sixfigures" in tokens:
        floor = 100_000.0
    currency = _salary_currency(floor, currency, countries, notes)
    notes.extend(f"Hourly pay ({rate}) is not compared with yearly salaries." for rate in hourly)
    remote_only = _remote_only(reader, notes)
    roles, skills, excluded_roles, industries, companies = classify_phrases(
        reader.phrases, original
    )
    notes.extend(_unused_wishes(reader))

    profile = WishProfile(
        roles=roles,
        skills=skills,
        countries=countries,
        cities=cities,
        remote_only=remote_only,
        seniority=sorted(set(reader.seniority), key=lambda level: SENIORITY_RANK[level]),
        salary_floor=floor,
        salary_currency=currency,
        excluded_companies=companies,
        excluded_industries=industries,
        excluded_roles=excluded_roles,
        languages=dedupe(reader.languages),
        notes=notes,
    )
    if not profile.readable:
        profile.notes.append(
            "Nothing in this wish could be read as a role, skill, place, salary or "
            "exclusion, so it filters nothing."
        )
    return profile


def _joined_text(original: str) -> tuple[str, list[str]]:
    """The wish lower-cased, with multi-word names joined and hourly rates cut out; and the
    hourly rates as written."""
    text = original
    for pattern, replacement in CASED:
        text = pattern.sub(replacement, text)
    text = text.lower()
    for pattern, replacement in JOIN_PATTERNS:
        text = pattern.sub(replacement, text)
    hourly = [" ".join(m.group(0).split()) for m in HOURLY.finditer(text)]
    return HOURLY.sub(" , ", text), hourly


def _places(reader: WishTokenReader) -> tuple[list[str], list[str]]:
    """Countries and cities. A city's countries count only when the seeker named none of
    them: "Berlin or the US" keeps DE, "Chicago or the US" gives US once."""
    named_codes = dedupe(code for codes in reader.country_codes for code in codes)
    countries = list(named_codes)
    for codes in [codes for _, codes in reader.cities] + reader.ambiguous:
        if not set(codes) & set(named_codes):
            countries.extend(codes)
    return dedupe(countries), dedupe(display for display, _ in reader.cities)


def _salary_currency(
    floor: float | None, currency: str | None, countries: list[str], notes: list[str]
) -> str | None:
    """The floor's currency: as named, else the one all named countries share."""
    if floor is None or currency is not None:
        return currency
    currencies = {CURRENCY_OF.get(code) for code in countries}
    if len(currencies) == 1 and None not in currencies:
        currency = currencies.pop()
        notes.append(f"The salary floor names no currency; {currency} is assumed.")
        return currency
    notes.append(f"The salary floor of {floor:,.0f} names no currency, so it filters nothing.")
    return None


def _remote_only(reader: WishTokenReader, notes: list[str]) -> bool:
    remote_only = (
        reader.remote_only_said
        or reader.refuses_onsite
        or (reader.refuses_hybrid and reader.remote_said)
    ) and not (reader.accepts_onsite or reader.accepts_hybrid)
    if reader.remote_said and not remote_only:
        notes.append("Remote is welcome but not required, so on-site jobs are kept.")
    if reader.accepts_onsite and not reader.remote_said:
        notes.append("A wish for on-site work is noted but not used to filter.")
    return remote_only


def _unused_wishes(reader: WishTokenReader) -> list[str]:
    """Notes on what was read but gates nothing, and on what could not be read."""
    notes = []
    if reader.avoided_places:
        names = ", ".join(dedupe(reader.avoided_places))
        notes.append(f"Places to avoid ({names}) are not used to filter.")
    for region in dedupe(reader.wide_regions):
        notes.append(f"{region} is too wide a region to filter by countries.")
    if reader.job_types:
        kinds = ", ".join(dedupe(reader.job_types))
        notes.append(f"The job type ({kinds}) is noted but not used to filter.")
    if reader.unreadable:
        words = ", ".join(f"'{w}'" for w in dedupe(reader.unreadable))
        notes.append(f"Could not read {words}.")
    for phrase in reader.too_long:
        notes.append(f"Could not read '{phrase}' as a role or skill.")
    return notes
