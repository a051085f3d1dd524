"""Facts read once from a posting when it is stored: where, how, what level, what pay, which
language. Rules over jobspy's columns and the text; what the rules cannot tell stays unknown
(None, or "unknown" for the work mode), and unknown never excludes a posting."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

WorkMode = Literal["remote", "hybrid", "onsite", "unknown"]
Seniority = Literal["intern", "junior", "mid", "senior", "lead", "principal"]


class PostingFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = None  # ISO 3166-1 alpha-2, upper case: "US", "DE", "GB"
    region: str | None = None  # state or province code when the location gives one: "IL"
    city: str | None = None  # as written on the board, e.g. "Chicago"
    work_mode: WorkMode = "unknown"
    seniority: Seniority | None = None
    employment_types: tuple[str, ...] = ()  # "fulltime", "parttime", "contract", "internship"
    salary_min: float | None = None  # annual
    salary_max: float | None = None  # annual
    salary_currency: str | None = None  # ISO 4217, upper case
    language: str | None = None  # ISO 639-1 of the description: "en", "de", "fr"...


# --- where -------------------------------------------------------------------------------
# Country spellings jobspy writes as the last location part (codes from Indeed, upper-cased
# "USA"/"UK" and title-cased names from its Country enum, names from LinkedIn).
_COUNTRIES = {
    **{name: "US" for name in ("us", "usa", "united states", "united states of america")},
    **{name: "GB" for name in ("uk", "gb", "united kingdom", "great britain", "england")},
    **{name: "GB" for name in ("scotland", "wales", "northern ireland")},
    "canada": "CA", "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES",
    "netherlands": "NL", "the netherlands": "NL", "italy": "IT", "portugal": "PT",
    "ireland": "IE", "india": "IN", "australia": "AU", "new zealand": "NZ", "mexico": "MX",
    "brazil": "BR", "poland": "PL", "switzerland": "CH", "austria": "AT", "belgium": "BE",
    "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "singapore": "SG",
    "japan": "JP", "china": "CN", "hong kong": "HK", "israel": "IL", "argentina": "AR",
    "colombia": "CO", "philippines": "PH", "south africa": "ZA", "czechia": "CZ",
    "czech republic": "CZ", "romania": "RO", "ukraine": "UA", "luxembourg": "LU",
    "united arab emirates": "AE", "greece": "GR", "hungary": "HU", "turkey": "TR",
}  # fmt: skip
_COUNTRY_CODES = frozenset(_COUNTRIES.values())
_US_STATES = {
    "AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas", "CA": "california",
    "CO": "colorado", "CT": "connecticut", "DE": "delaware", "FL": "florida", "GA": "georgia",
    "HI": "hawaii", "ID": "idaho", "IL": "illinois", "IN": "indiana", "IA": "iowa",
    "KS": "kansas", "KY": "kentucky", "LA": "louisiana", "ME": "maine", "MD": "maryland",
    "MA": "massachusetts", "MI": "michigan", "MN": "minnesota", "MS": "mississippi",
    "MO": "missouri", "MT": "montana", "NE": "nebraska", "NV": "nevada",
    "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico", "NY": "new york",
    "NC": "north carolina", "ND": "north dakota", "OH": "ohio", "OK": "oklahoma",
    "OR": "oregon", "PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina",
    "SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah", "VT": "vermont",
    "VA": "virginia", "WA": "washington", "WV": "west virginia", "WI": "wisconsin",
    "WY": "wyoming", "DC": "district of columbia",
}  # fmt: skip
_CA_PROVINCES = {
    "AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick",
    "NL": "newfoundland and labrador", "NS": "nova scotia", "NT": "northwest territories",
    "NU": "nunavut", "ON": "ontario", "PE": "prince edward island", "QC": "quebec",
    "SK": "saskatchewan", "YT": "yukon",
}  # fmt: skip
_REGIONS = {"US": _US_STATES, "CA": _CA_PROVINCES}
# Words that say how, not where: "Remote, US", "Hybrid remote in Austin, TX".
_NOT_A_PLACE = re.compile(
    r"\b(?:remote|hybrid|on-?site|work from home|wfh|anywhere|worldwide|multiple locations)\b"
    r"|[()]",
    re.IGNORECASE,
)


def _region(part: str, country: str) -> str | None:
    """The state/province code `part` names in `country`; any short code elsewhere."""
    table = _REGIONS.get(country)
    if table is None:
        return part if re.fullmatch(r"[A-Z0-9]{1,3}", part) else None
    if part.upper() in table:
        return part.upper()
    return next((code for code, name in table.items() if name == part.casefold()), None)


def _place(location: str | None) -> tuple[str | None, str | None, str | None]:
    """(country, region, city) from jobspy's "City, Region, Country" display string."""
    parts = [" ".join(_NOT_A_PLACE.sub(" ", p).split()) for p in (location or "").split(",")]
    # "Remote in Austin, TX 78701": drop the "in" and the ZIP code.
    parts = [re.sub(r"^in |\s\d{5}(?:-\d{4})?$", "", p, flags=re.I).strip(" -/") for p in parts]
    parts = [p for p in parts if p]
    if not parts or len(parts) > 3:
        return None, None, None
    country = _COUNTRIES.get(parts[-1].casefold())
    if country is None and parts[-1] in _COUNTRY_CODES and len(parts) > 1:
        # Indeed abroad: "Berlin, BE, DE", "Bengaluru, KA, IN". Two parts ending in a code
        # that is also a US state ("Denver, CO") are the US: that is how US boards write.
        if len(parts) == 3 or parts[-1] not in _US_STATES:
            country = parts[-1]
    if country is not None:
        parts = parts[:-1]
    elif len(parts) == 3:
        return None, None, None  # a third part we cannot read: guessing would mislead
    else:
        last = parts[-1]
        # Without a country, a state or province says it. A bare "CA" or "IN" could be a
        # country as well; "San Jose, CA" (the city first) is how US boards write it.
        if len(parts) > 1 or last.upper() not in _COUNTRY_CODES:
            country = next((code for code in _REGIONS if _region(last, code)), None)
        if country is None:
            return None, None, None
    region = _region(parts[-1], country) if parts else None
    if region is not None or (len(parts) == 2 and country not in _REGIONS):
        parts = parts[:-1]  # "London, England, UK": the middle part is no code we know
    city = parts[0] if len(parts) == 1 else None
    return country, region, city


# --- how ---------------------------------------------------------------------------------
_REMOTE = re.compile(r"\bremote(?:ly)?\b|work(?:ing)? from home|\bwfh\b|telecommut", re.I)
# "Hybrid" in a description is also a kind of cloud or app; count it only as a way of working.
_HYBRID = re.compile(
    r"\bhybrid\b(?! (?:cloud|apps?|mobile|infra|environment|ecosystem|it\b|solution|system))"
    r"|\b(?:[1-4]|one|two|three|four) days?(?: a| per| each)? week in (?:the |our )?office",
    re.I,
)
# "Remote and hybrid work options": no one mode.
_EITHER = re.compile(r"\bremote(?: and|,| or|/) ?hybrid|\bhybrid(?: and|,| or|/) ?remote", re.I)
# On-site as the way of working, not "on-site support" or "on-site wellness centers".
_OFFICE = r"(?:on[- ]?site|in[- ]office|in[- ]person)\b"
_ONSITE = re.compile(
    rf"\b(?:100%|fully|entirely|strictly|is an?|be|are|work|working|report) {_OFFICE}"
    rf"|\b{_OFFICE} (?:position|role|job|work|only)|work location:\W*in[- ]person",
    re.I,
)
# "This is not a remote role" is evidence for the office, not against it.
_NO_REMOTE = re.compile(
    r"\b(?:not|no|non)[- ](?:a |fully |eligible for )?remote\b"
    r"|\bremote (?:work )?(?:is )?not (?:available|possible|an option|offered)",
    re.I,
)


def _work_mode(posting) -> WorkMode:
    head = f"{posting.title or ''} {posting.location or ''}"
    body = posting.description or ""
    if _HYBRID.search(head):
        return "hybrid"  # "Hybrid remote": jobspy flags it remote, but it is not remote-only
    if posting.is_remote is True or _REMOTE.search(head):
        return "remote"
    if _HYBRID.search(body) and not _EITHER.search(body):
        return "hybrid"
    if _REMOTE.search(_NO_REMOTE.sub(" ", body)):
        return "unknown"  # a remote mention we cannot weigh: never "onsite"
    if re.search(_OFFICE, head, re.I) or _ONSITE.search(body):
        return "onsite"
    # jobspy's is_remote=False is often a default: trust it only next to a description that
    # could have said otherwise.
    if posting.is_remote is False and len(body) >= 200:
        return "onsite"
    return "unknown"


# --- what level --------------------------------------------------------------------------
_LEVEL_WORDS: dict[Seniority, str] = {  # strongest first
    "intern": r"\bintern(?:ship)?s?\b|\bco-?op\b",
    "principal": r"\b(?:principal|distinguished)\b",
    # "Staff Accountant" or "Staff Nurse" is no staff engineer.
    "lead": r"\blead\b|\bstaff\b(?=.*\b(?:engineer|developer|scientist|architect|designer)\b)",
    "senior": r"\b(?:senior|sr)\b",
    "mid": r"\b(?:mid[- ]?level|intermediate)\b",
    "junior": r"\b(?:junior|jr|entry[- ]level|(?:new|college|university) grad|early career)",
}
# Roman levels, case-sensitive: "Software Engineer III". IV and V are at least senior.
_LEVEL_NUMERALS = {"I": "junior", "II": "mid", "III": "senior", "IV": "senior", "V": "senior"}
_NUMERAL = re.compile(r"(?<![\w/&'.-])(I{1,3}|IV|V)(?![\w/&'])")


def _seniority(title: str) -> Seniority | None:
    found = [level for level, rx in _LEVEL_WORDS.items() if re.search(rx, title, re.I)]
    if "intern" in found:
        return "intern"
    if found:
        # "Senior Staff" is staff, but "Jr to Mid Level" or "Junior/Senior" is no one level.
        return None if len(found) > 1 and {"junior", "mid"} & set(found) else found[0]
    numerals = {_LEVEL_NUMERALS[m] for m in _NUMERAL.findall(title)}
    return numerals.pop() if len(numerals) == 1 else None  # type: ignore[return-value]


# --- what contract, what pay -------------------------------------------------------------
_EMPLOYMENT = {
    "fulltime": "fulltime", "parttime": "parttime", "contract": "contract",
    "contractor": "contract", "internship": "internship", "intern": "internship",
    "temporary": "temporary", "temp": "temporary",
}  # fmt: skip


def _employment_types(job_type: str | None) -> tuple[str, ...]:
    words = (re.sub(r"[^a-z]", "", part.casefold()) for part in (job_type or "").split(","))
    return tuple(dict.fromkeys(_EMPLOYMENT[w] for w in words if w in _EMPLOYMENT))


# Same bounds as normalize: for these currencies an annual pay outside them is a misread
# hourly rate or a typo; other currencies (JPY, INR...) legitimately run into the millions.
_MAJOR_CURRENCIES = frozenset({"USD", "EUR", "GBP", "CAD", "AUD", "CHF", "NZD", "SGD"})
_MAJOR_RANGE, _ANY_RANGE = (1_000.0, 5_000_000.0), (0.01, 1e11)


def _amount(value, currency: str | None) -> float | None:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    low, high = _MAJOR_RANGE if currency in _MAJOR_CURRENCIES else _ANY_RANGE
    return amount if math.isfinite(amount) and low <= amount <= high else None


def _salary(posting) -> tuple[float | None, float | None, str | None]:
    currency = (posting.salary_currency or "").strip().upper()
    currency = currency if re.fullmatch(r"[A-Z]{3}", currency) else None
    low, high = _amount(posting.salary_min, currency), _amount(posting.salary_max, currency)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return low, high, currency if (low, high) != (None, None) else None


# --- which language ----------------------------------------------------------------------
# Frequent words that (mostly) belong to one language only.
_STOP_WORDS = {
    "en": "the and of to with for you our is are will we this that your be have an on as",
    "de": "der die das und mit für wir sie ist nicht auf ein eine zu den von dem bei ihre oder",
    "fr": "le les et des du une pour vous nous est dans avec sur au aux qui votre notre nos vos",
    "es": "el los las y del una para con por es que nuestro nuestra su sus como al más lo",
    "nl": "het een van voor met wij zijn niet op ook bij naar uw onze deze wordt jouw je",
    "it": "il gli della di che per sono nel nella dei degli alla delle siamo anche questo è",
    "pt": "o os em um uma com não nosso nossa você são ao pelo da dos das na no",
}
_STOP_SETS = {lang: frozenset(words.split()) for lang, words in _STOP_WORDS.items()}


def _language(text: str | None) -> str | None:
    words = re.findall(r"[^\W\d_]+", (text or "").casefold())
    if len(words) < 20:
        return None  # too short to tell
    scores = sorted(((sum(w in s for w in words), lang) for lang, s in _STOP_SETS.items()))
    (second, _), (best, lang) = scores[-2], scores[-1]
    return lang if best >= 5 and best >= 2 * second else None


def posting_facts(posting) -> PostingFacts:
    """The facts of a Posting, or of a `jobs` row (same attribute names)."""
    country, region, city = _place(posting.location)
    salary_min, salary_max, salary_currency = _salary(posting)
    return PostingFacts(
        country=country,
        region=region,
        city=city,
        work_mode=_work_mode(posting),
        seniority=_seniority(posting.title or ""),
        employment_types=_employment_types(posting.job_type),
        salary_min=salary_min,
        salary_max=salary_max,
        salary_currency=salary_currency,
        language=_language(posting.description),
    )
