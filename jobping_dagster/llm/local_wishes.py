"""Reads a user's free-text wish into a WishProfile without any network: the local reader.

It uses the local scorer's tokenizer and vocabulary (`local.py`), so what it reads is what
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

import re

from jobping_dagster.llm.local import (
    _NEGATION_CONTINUES,
    _NEGATION_WORDS,
    _NEGATORS,
    _SENIORITY_RANK,
    _SPELLED,
    _STOP_WORDS,
    _canonical,
    _extract_salary,
    _normalize,
    _raw_tokens,
)
from jobping_dagster.llm.models import WishProfile

LOCAL_WISHES_PARSER = "local-wishes-v1"

MAX_PROMPT_CHARS = 4000
MAX_PHRASE_WORDS = 5  # a longer run of content words is prose, not a role or a skill

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# Applied to the original text (case matters): "US" the country, not "us" the pronoun.
_CASED = [
    (re.compile(r"\bU\.S\.(?:A\.)?(?!\w)|\bUSA?\b"), " usa "),
    (re.compile(r"\bLA\b"), " losangeles "),
]
# Applied to the lower-cased text before the scorer's own phrases (`local._normalize`).
_JOINS = [
    (r"\bthe us\b", "the usa"),
    (r"\bnew[\s-]?grad(?:uate)?s?\b|\bearly[\s-]career\b|\brecent grad(?:uate)?s?\b", "junior"),
    (r"\bci\s*/\s*cd\b", "cicd"),
    (r"\bbring[\s-]?up\b", "bringup"),
    (r"\bhands[\s-]on\b", " "),
    (r"\bnon[\s-]?profits?\b", "nonprofit"),
    (r"\bpart[\s-]?time\b", "parttime"),
    (r"\bfull[\s-]?time\b", "fulltime"),
    (r"\bsix[\s-]figures?\b", " sixfigures "),
    (
        r"\b(?:fully|only|exclusively|strictly|completely|entirely|purely|totally)[\s-]+remote\b"
        r"|(?<![\w.])100\s?%\s?remote\b"
        r"|\bremote[\s-]+only\b"
        r"|\bremote[\s-]+(?:jobs?|roles?|positions?|work|opportunities)[\s-]+only\b",
        " remoteonly ",
    ),
    (r"\bdo(?:n'?t| not) (?:like|enjoy)\b|\bdislike\b|\bhate\b", "avoid"),
    (r"\banything but\b|\bother than\b|\bexcept for\b", "except"),
    (r"\bneither\b", "no"),
    (r"\bmiddle east\b", "middleeast"),
    (r"\blatin america\b", "latam"),
    (r"\bnorth america\b", "northamerica"),
    (r"\bnew zealand\b", "newzealand"),
    (r"\bsouth africa\b", "southafrica"),
    (r"\bhong kong\b", "hongkong"),
    (r"\bczech republic\b", "czechia"),
    (r"\b(west|east) coast\b", r"\1coast"),
    (r"\bsao paulo\b|\bsão paulo\b", "saopaulo"),
    (r"\bwashington,? d\.?c\.?\b", "dc"),
    (
        r"\b(new|north|south|west|rhode) "
        r"(jersey|mexico|hampshire|carolina|dakota|virginia|island)\b",
        r"\1\2",
    ),
]
_JOIN_PATTERNS = [(re.compile(pattern), replacement) for pattern, replacement in _JOINS]

# How to show a joined token back to the user.
_DISPLAY = {
    **_SPELLED,
    "cicd": "ci/cd",
    "bringup": "bring-up",
    "nonprofit": "non-profit",
    "parttime": "part-time",
    "fulltime": "full-time",
}

_EUROPE = (
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO CH GB"
).split()
_US_STATES = """alabama alaska arizona arkansas california colorado connecticut delaware
    florida hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland
    massachusetts michigan minnesota mississippi missouri montana nebraska nevada
    newhampshire newjersey newmexico northcarolina northdakota ohio oklahoma oregon
    pennsylvania rhodeisland southcarolina southdakota tennessee texas utah vermont virginia
    washington westvirginia wisconsin wyoming midwest westcoast eastcoast dc""".split()

# Words that name a country or a region of countries -> ISO 3166-1 alpha-2 codes.
_COUNTRIES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("europe", "european", "eu", "eea"), tuple(_EUROPE)),
    **dict.fromkeys(("usa", "america", "unitedstates", *_US_STATES), ("US",)),
    **dict.fromkeys(
        ("uk", "unitedkingdom", "britain", "greatbritain", "england", "scotland", "wales"),
        ("GB",),
    ),
    "canada": ("CA",),
    "northamerica": ("US", "CA"),
    **dict.fromkeys(("nordics", "nordic"), ("DK", "FI", "IS", "NO", "SE")),
    "scandinavia": ("DK", "NO", "SE"),
    "benelux": ("BE", "NL", "LU"),
    "dach": ("DE", "AT", "CH"),
    **dict.fromkeys(("germany", "deutschland"), ("DE",)),
    "france": ("FR",),
    "spain": ("ES",),
    **dict.fromkeys(("netherlands", "holland"), ("NL",)),
    "belgium": ("BE",),
    "ireland": ("IE",),
    "portugal": ("PT",),
    "italy": ("IT",),
    "poland": ("PL",),
    "sweden": ("SE",),
    "denmark": ("DK",),
    "finland": ("FI",),
    "austria": ("AT",),
    "switzerland": ("CH",),
    "czechia": ("CZ",),
    "greece": ("GR",),
    "romania": ("RO",),
    "hungary": ("HU",),
    "estonia": ("EE",),
    "latvia": ("LV",),
    "lithuania": ("LT",),
    "luxembourg": ("LU",),
    "norway": ("NO",),
    "croatia": ("HR",),
    "slovenia": ("SI",),
    "slovakia": ("SK",),
    "bulgaria": ("BG",),
    "cyprus": ("CY",),
    "malta": ("MT",),
    "iceland": ("IS",),
    "australia": ("AU",),
    "newzealand": ("NZ",),
    "india": ("IN",),
    "singapore": ("SG",),
    "japan": ("JP",),
    "brazil": ("BR",),
    "mexico": ("MX",),
    "israel": ("IL",),
    "uae": ("AE",),
    "southafrica": ("ZA",),
    "hongkong": ("HK",),
}
# Regions too wide to be a list of countries: noted, never a gate.
_WIDE_REGIONS = {
    "emea": "EMEA",
    "apac": "APAC",
    "latam": "Latin America",
    "asia": "Asia",
    "africa": "Africa",
    "middleeast": "the Middle East",
    "americas": "the Americas",
}


def _cities(codes: str, names: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {name: (name.title(), tuple(codes.split())) for name in names.split()}


# Known cities -> (how to show it, the countries it may be in).
_CITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    **_cities("DE", "berlin munich hamburg frankfurt cologne stuttgart dusseldorf leipzig"),
    **_cities("FR", "paris lyon toulouse marseille bordeaux lille"),
    **_cities("ES", "madrid barcelona valencia seville malaga"),
    **_cities("NL", "amsterdam rotterdam utrecht eindhoven"),
    **_cities("BE", "brussels antwerp ghent"),
    **_cities("IE", "dublin cork galway"),
    **_cities("PT", "lisbon porto"),
    **_cities("IT", "milan rome turin"),
    **_cities("PL", "warsaw krakow wroclaw gdansk"),
    **_cities("SE", "stockholm gothenburg malmo"),
    **_cities("DK", "copenhagen aarhus"),
    **_cities("FI", "helsinki"),
    **_cities("AT", "vienna"),
    **_cities("CH", "zurich geneva basel lausanne"),
    **_cities("CZ", "prague brno"),
    **_cities("GR", "athens"),
    **_cities("RO", "bucharest cluj"),
    **_cities("HU", "budapest"),
    **_cities("EE", "tallinn"),
    **_cities("LV", "riga"),
    **_cities("LT", "vilnius"),
    **_cities("NO", "oslo"),
    **_cities("HR", "zagreb"),
    **_cities("SI", "ljubljana"),
    **_cities("SK", "bratislava"),
    **_cities("BG", "sofia"),
    **_cities("GB", "london manchester edinburgh bristol oxford glasgow leeds belfast"),
    **_cities("GB US", "cambridge birmingham"),
    **_cities(
        "US",
        """seattle austin boston chicago denver atlanta miami dallas houston portland
        philadelphia phoenix detroit minneapolis pittsburgh nashville charlotte raleigh
        baltimore""",
    ),
    **_cities("CA", "toronto vancouver montreal ottawa calgary"),
    **_cities("AU", "sydney melbourne brisbane perth"),
    **_cities("IN", "bangalore bengaluru hyderabad pune mumbai delhi chennai"),
    **_cities("JP", "tokyo"),
    **_cities("AE", "dubai"),
    "newyork": ("New York", ("US",)),
    "nyc": ("New York", ("US",)),
    "sanfrancisco": ("San Francisco", ("US",)),
    "sf": ("San Francisco", ("US",)),
    "losangeles": ("Los Angeles", ("US",)),
    "saopaulo": ("São Paulo", ("BR",)),
}
# Names of a region in more than one country: read like a city (their countries count only
# when no other named country may be meant), but not listed as a city.
_AMBIGUOUS = {"georgia": ("US", "GE")}

_CURRENCY_OF = {
    **dict.fromkeys("AT BE HR CY EE FI FR DE GR IE IT LV LT LU MT NL PT SK SI ES".split(), "EUR"),
    **{"US": "USD", "GB": "GBP", "CA": "CAD", "CH": "CHF", "AU": "AUD", "NZ": "NZD"},
    **{"PL": "PLN", "SE": "SEK", "DK": "DKK", "NO": "NOK", "CZ": "CZK", "HU": "HUF"},
    **{"RO": "RON", "BG": "BGN", "IS": "ISK", "IN": "INR", "SG": "SGD", "JP": "JPY"},
    **{"BR": "BRL", "MX": "MXN", "IL": "ILS", "AE": "AED", "ZA": "ZAR", "HK": "HKD"},
}

_LANGUAGES = {
    "english": "en",
    "german": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "portuguese": "pt",
    "dutch": "nl",
    "polish": "pl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "finnish": "fi",
    "czech": "cs",
    "greek": "el",
    "romanian": "ro",
    "hungarian": "hu",
    "japanese": "ja",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "zh",
    "korean": "ko",
    "russian": "ru",
    "ukrainian": "uk",
    "arabic": "ar",
    "hindi": "hi",
    "turkish": "tr",
    "hebrew": "he",
    "vietnamese": "vi",
    "thai": "th",
    "indonesian": "id",
}
_LANGUAGE_HELPERS = {"speaking", "speaker", "fluent", "fluency", "native", "bilingual", "speak"}

_JOB_TYPES = {
    "parttime": "part-time",
    "fulltime": "full-time",
    "contract": "contract",
    "contractor": "contract",
    "freelance": "freelance",
    "freelancer": "freelance",
    "freelancing": "freelance",
    "temporary": "temporary",
    "temp": "temporary",
    "seasonal": "seasonal",
    "permanent": "permanent",
}

# Canonical (see local._canonical) last words that make a phrase a role.
_ROLE_HEADS = set(
    """engineer architect scientist analyst designer manager administrator admin assistant
    technician teacher tutor instructor coach trainer director clerk bookkeeper accountant
    auditor controller nurse therapist physician doctor pharmacist agent barber hairdresser
    stylist arborist gardener landscaper electrician plumber carpenter mechanic welder driver
    operator consultant specialist writer copywriter editor recruiter researcher officer
    representative rep coordinator associate executive supervisor tester annotator labeler
    lawyer attorney paralegal cashier chef cook bartender barista receptionist secretary
    planner strategist marketer advisor adviser counselor counsellor worker caregiver aide
    sre owner head president vp cto ceo cfo coo translator interpreter photographer artist
    animator producer journalist librarian pilot guard inspector surveyor estimator buyer
    scheduler dispatcher assembler machinist fabricator installer housekeeper cleaner
    janitor nanny baker butcher veterinarian dentist hygienist paramedic firefighter
    professor lecturer dean expert economist statistician mathematician physicist chemist
    biologist geologist modeler salesperson server waiter waitress courier packer picker
    loader laborer labourer apprentice paraprofessional midwife psychologist psychiatrist
    surgeon optometrist nutritionist dietitian phlebotomist sonographer radiographer
    technologist tech""".split()
)

# Tools and languages: shown as skills too when they qualify a role ("java engineer").
_TECH = set(
    """java python javascript typescript go rust ruby php perl scala kotlin swift c cpp
    csharp dotnet r sql nosql postgres mysql mongodb redis react angular vue svelte node
    django flask fastapi spring rails laravel aws gcp azure terraform kubernetes docker
    ansible linux spark hadoop kafka airflow dbt snowflake databricks tableau excel
    salesforce sap servicenow workday ios android flutter unity unreal graphql html css
    figma rtos fpga verilog vhdl matlab pytorch tensorflow ml ai llm nlp cicd""".split()
)

# Canonical words of an industry someone may refuse ("no crypto", "avoid agencies").
_INDUSTRIES = set(
    """crypto cryptocurrency blockchain web3 nft defi gambling betting casino igaming defense
    defence military weapon weapons tobacco vaping alcohol oil gas fossil mining petroleum
    adtech advertising fintech finance banking bank insurance consulting consultancy agency
    staffing outsourcing recruitment recruiting healthcare pharma pharmaceutical biotech
    government nonprofit ngo startup enterprise corporate retail ecommerce gaming media
    telecom automotive aerospace logistics hospitality estate""".split()
)
# Words that name a kind of work, never a company, even when capitalized ("No Sales").
_WORK_DOMAINS = set("sales marketing support service customer office desk call".split())
_KNOWN_COMPANIES = {
    "amazon": "Amazon",
    "google": "Google",
    "alphabet": "Alphabet",
    "meta": "Meta",
    "facebook": "Facebook",
    "microsoft": "Microsoft",
    "apple": "Apple",
    "netflix": "Netflix",
    "tesla": "Tesla",
    "uber": "Uber",
    "ibm": "IBM",
    "accenture": "Accenture",
    "deloitte": "Deloitte",
    "pwc": "PwC",
    "kpmg": "KPMG",
    "mckinsey": "McKinsey",
    "walmart": "Walmart",
    "palantir": "Palantir",
    "infosys": "Infosys",
    "tcs": "TCS",
    "wipro": "Wipro",
    "cognizant": "Cognizant",
    "capgemini": "Capgemini",
    "revature": "Revature",
}

# Words that carry no role, skill or place, beyond the scorer's stop words.
_FILLER = set(
    """welcome welcomed fine ok okay happy willing able ready glad also really especially
    mostly mainly maybe perhaps either etc eg ie e g thing stuff field industry sector domain
    space region area city country location gig task duty require required requirement
    preferred bonus nice desired desirable ideal dream next step move change switch
    transition related similar focus focused oriented driven first have has had know think
    get getting find finding build building using use doing do done make making help helping
    currently live living located relocate relocation hybrid remote remoteonly onsite
    anything everything something whatever someone tc ote gross net brutto salary wage wages
    figure figures sixfigures earn earning hour hourly week weekly day daily""".split()
)

# Stop words that belong to a role when a job noun follows ("career coach").
_PHRASE_STOP_WORDS = {"career", "team"}
_KEYBOARD = ("qwerty", "asdf", "zxcv", "hjkl", "werty", "sdfgh", "dfghj", "fghjk", "xcvbn")
_LIST_SEPARATORS = {",", "/", "or", "nor", "and"}
_HARD_STOPS = {".", ";", ":", "!", "?", "(", ")", "\n"}
_HOURLY = re.compile(
    r"[$€£]?\s?\d+(?:[.,]\d+)?\s?k?\s?(?:[$€£]|usd|eur|gbp|dollars?|euros?|pounds?)?\s?"
    r"(?:/|per|an?)\s?(?:h|hr|hour)\b"
)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class _Phrase:
    """Consecutive content words, negated or not, and how it joins the previous phrase."""

    def __init__(self, negated: bool, link: str | None):
        self.negated = negated
        self.link = link  # ",", "or", "and", "/" when in a list with the previous phrase
        self.raw: list[str] = []

    @property
    def canon(self) -> list[str]:
        return [_canonical(word) for word in self.raw]

    @property
    def has_role_head(self) -> bool:
        return bool(self.raw) and self.canon[-1] in _ROLE_HEADS

    def text(self) -> str:
        return " ".join(_DISPLAY.get(word, word) for word in self.raw)


def read_wishes_locally(prompt: str) -> WishProfile:
    """The structured wish, read by keyword rules. Deterministic; never raises."""
    original = (prompt or "")[:MAX_PROMPT_CHARS]
    notes: list[str] = []
    if not original.strip():
        return WishProfile(notes=["The wish is empty, so nothing is filtered."])

    text = original
    for pattern, replacement in _CASED:
        text = pattern.sub(replacement, text)
    text = text.lower()
    for pattern, replacement in _JOIN_PATTERNS:
        text = pattern.sub(replacement, text)
    hourly = [" ".join(m.group(0).split()) for m in _HOURLY.finditer(text)]
    text = _HOURLY.sub(" , ", text)
    floor, currency, text = _extract_salary(text)
    tokens = _raw_tokens(_normalize(text))

    reader = _Reader(tokens)
    reader.run()

    # Places.
    named_codes = _dedupe(code for codes in reader.country_codes for code in codes)
    countries = list(named_codes)
    for codes in [codes for _, codes in reader.cities] + reader.ambiguous:
        if not set(codes) & set(named_codes):
            countries.extend(codes)
    countries = _dedupe(countries)
    cities = _dedupe(display for display, _ in reader.cities)

    # Salary.
    if floor is None and "sixfigures" in tokens:
        floor = 100_000.0
    if floor is not None and currency is None:
        currencies = {_CURRENCY_OF.get(code) for code in countries}
        if len(currencies) == 1 and None not in currencies:
            currency = currencies.pop()
            notes.append(f"The salary floor names no currency; {currency} is assumed.")
        else:
            notes.append(
                f"The salary floor of {floor:,.0f} names no currency, so it filters nothing."
            )
    for rate in hourly:
        notes.append(f"Hourly pay ({rate}) is not compared with yearly salaries.")

    # Remote.
    remote_only = (
        reader.remote_only_said
        or reader.refuses_onsite
        or (reader.refuses_hybrid and reader.remote_said)
    ) and not (reader.accepts_onsite or reader.accepts_hybrid)
    if reader.remote_said and not remote_only:
        notes.append("Remote is welcome but not required, so on-site jobs are kept.")
    if reader.accepts_onsite and not reader.remote_said:
        notes.append("A wish for on-site work is noted but not used to filter.")

    # What the phrases are.
    roles, skills, excluded_roles, industries, companies = _classify(reader.phrases, original)

    if reader.avoided_places:
        names = ", ".join(_dedupe(reader.avoided_places))
        notes.append(f"Places to avoid ({names}) are not used to filter.")
    for region in _dedupe(reader.wide_regions):
        notes.append(f"{region} is too wide a region to filter by countries.")
    if reader.job_types:
        kinds = ", ".join(_dedupe(reader.job_types))
        notes.append(f"The job type ({kinds}) is noted but not used to filter.")
    if reader.unreadable:
        words = ", ".join(f"'{w}'" for w in _dedupe(reader.unreadable))
        notes.append(f"Could not read {words}.")
    for phrase in reader.too_long:
        notes.append(f"Could not read '{phrase}' as a role or skill.")

    seniority = sorted(set(reader.seniority), key=lambda level: _SENIORITY_RANK[level])
    profile = WishProfile(
        roles=roles,
        skills=skills,
        countries=countries,
        cities=cities,
        remote_only=remote_only,
        seniority=seniority,
        salary_floor=floor,
        salary_currency=currency,
        excluded_companies=companies,
        excluded_industries=industries,
        excluded_roles=excluded_roles,
        languages=_dedupe(reader.languages),
        notes=notes,
    )
    if not profile.readable:
        profile.notes.append(
            "Nothing in this wish could be read as a role, skill, place, salary or "
            "exclusion, so it filters nothing."
        )
    return profile


class _Reader:
    """One pass over the tokens, with the local scorer's negation rules, collecting
    phrases, places, work mode, seniority, languages and job types."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.phrases: list[_Phrase] = []
        self.country_codes: list[tuple[str, ...]] = []
        self.cities: list[tuple[str, tuple[str, ...]]] = []
        self.ambiguous: list[tuple[str, ...]] = []
        self.avoided_places: list[str] = []
        self.wide_regions: list[str] = []
        self.seniority: list[str] = []
        self.languages: list[str] = []
        self.job_types: list[str] = []
        self.unreadable: list[str] = []
        self.too_long: list[str] = []
        self.remote_said = self.remote_only_said = False
        self.refuses_onsite = self.refuses_hybrid = False
        self.accepts_onsite = self.accepts_hybrid = False
        self._current: _Phrase | None = None
        self._link: str | None = None
        self._negating = 0  # content words left in the current negation
        self._list_negation = False  # the negation reaches over a "X, Y or Z" list
        self._too_long = False  # the current run of words is prose: dropped when it ends

    def run(self) -> None:
        for index, raw in enumerate(self.tokens):
            self._step(index, raw)
        self._end(None)

    def _step(self, index: int, raw: str) -> None:
        if raw in _NEGATORS and raw != "nor":
            self._end(None)
            self._negating = _NEGATION_WORDS
            self._list_negation = _negated_list_follows(self.tokens, index)
            return
        if raw in _LIST_SEPARATORS:
            if raw in ("and", ",") and not self._list_negation:
                self._negating = 0
            elif self._negating or raw == "nor":
                self._negating = _NEGATION_WORDS  # each listed item gets a fresh window
            self._end("or" if raw == "nor" else raw)
            return
        if not raw[0].isalnum() or raw in ("but", "with", "yes"):
            self._end(None)
            self._negating = 0
            self._list_negation = False
            return
        term = _canonical(raw)
        if raw.isdigit() or (len(term) == 1 and term not in ("c", "r")):
            self._end(None)
            return
        following = self.tokens[index + 1] if index + 1 < len(self.tokens) else ""
        if raw in _PHRASE_STOP_WORDS and _canonical(following) in _ROLE_HEADS:
            pass  # "career coach", "team manager": part of the role
        elif raw in _NEGATION_CONTINUES or term in _STOP_WORDS or raw == "us":
            self._end(None)  # a stop word ends a phrase, not a negation
            return
        negated = self._negating > 0
        if self._wish_word(index, raw, term, negated):
            self._end(None)
            self._spend()
            return
        if raw in _FILLER or term in _FILLER or raw in _LANGUAGE_HELPERS:
            self._end(None)
            return
        if _gibberish(raw):
            self.unreadable.append(raw)
            self._end(None)
            return
        if term in _SENIORITY_RANK and term != "staff" and not negated:
            self.seniority.append(term)
            return  # "senior java engineer": the phrase goes on without the level
        if raw in _LANGUAGES and not negated:
            self.languages.append(_LANGUAGES[raw])
            if following in _LANGUAGE_HELPERS or following in (",", ".", "and", "or", "\n"):
                self._end(None)
                return  # "German-speaking", "English and French": a language, not a skill
        if self._current is not None and self._current.negated != negated:
            self._end(None)
        if self._current is None:
            self._current = _Phrase(negated, self._link)
        self._current.raw.append(raw)
        if len(self._current.raw) > MAX_PHRASE_WORDS and not negated:
            self._current.raw.pop()
            self._too_long = True
            return
        if negated:
            self._spend()
            if not self._negating:
                self._end(None)

    def _wish_word(self, index: int, raw: str, term: str, negated: bool) -> bool:
        """Handles a word about place, work mode or job type; whether it was one."""
        if raw == "remoteonly":
            self.remote_only_said = self.remote_said = not negated
        elif term == "remote":
            if negated:
                self.accepts_onsite = True
            else:
                self.remote_said = True
        elif term == "onsite":
            if negated:
                self.refuses_onsite = True
            else:
                self.accepts_onsite = True
        elif term == "hybrid":
            if negated:
                self.refuses_hybrid = True
            else:
                self.accepts_hybrid = True
        elif raw in _JOB_TYPES:
            self.job_types.append(_JOB_TYPES[raw])
        elif raw in _WIDE_REGIONS:
            self.wide_regions.append(_WIDE_REGIONS[raw])
        elif raw in _COUNTRIES:
            if negated:
                self.avoided_places.append(raw.upper() if len(raw) <= 3 else raw.title())
            else:
                self.country_codes.append(_COUNTRIES[raw])
        elif raw in _CITIES:
            if negated:
                self.avoided_places.append(_CITIES[raw][0])
            else:
                self.cities.append(_CITIES[raw])
        elif raw in _AMBIGUOUS:
            if negated:
                self.avoided_places.append(raw.title())
            else:
                self.ambiguous.append(_AMBIGUOUS[raw])
        else:
            return False
        return True

    def _spend(self) -> None:
        if self._negating:
            self._negating -= 1
            if not self._negating:
                self._list_negation = False

    def _end(self, separator: str | None) -> None:
        """Ends the current phrase; `separator` says whether the next one is in its list."""
        if self._too_long and self._current is not None:
            self.too_long.append(self._current.text() + " ...")
            self._current = None
            self._too_long = False
        if self._current is not None and self._current.raw:
            self.phrases.append(self._current)
            self._current = None
            self._link = separator
        elif separator is None:
            self._link = None
        elif self._link is None and self.phrases:
            self._link = separator


def _negated_list_follows(tokens: list[str], start: int) -> bool:
    """Whether the negation at `start` opens a list "no X, Y or Z": a comma, then "or",
    "nor" or "and", before the clause ends."""
    comma = False
    for raw in tokens[start + 1 :]:
        if raw in _HARD_STOPS or raw in ("but", "with") or raw in _NEGATORS:
            return False
        if raw == ",":
            comma = True
        elif raw in ("or", "nor", "and"):
            return comma
    return False


def _classify(
    phrases: list[_Phrase], original: str
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """roles, skills, excluded roles, excluded industries, excluded companies."""
    _distribute_heads(phrases)
    roles: list[str] = []
    skills: list[str] = []
    excluded_roles: list[str] = []
    industries: list[str] = []
    companies: list[str] = []
    for phrase in phrases:
        canon = phrase.canon
        if phrase.negated:
            lowered = " ".join(phrase.raw)
            if any(word in _INDUSTRIES for word in canon) or lowered in _INDUSTRIES:
                industries.append(phrase.text())
            elif lowered in _KNOWN_COMPANIES:
                companies.append(_KNOWN_COMPANIES[lowered])
            elif _looks_like_a_name(phrase, original):
                companies.append(_as_written(lowered, original))
            else:
                excluded_roles.append(phrase.text())
            continue
        if all(word in _LANGUAGES or word in _LANGUAGE_HELPERS for word in phrase.raw):
            continue
        if phrase.has_role_head:
            tools = [w for w, c in zip(phrase.raw, canon, strict=True) if c in _TECH]
            skills.extend(_DISPLAY.get(word, word) for word in tools)
            # "java backend engineer": java is a skill, the role is "backend engineer";
            # "python developer" keeps its only qualifier.
            while len(phrase.raw) > 2 and _canonical(phrase.raw[0]) in _TECH:
                phrase.raw.pop(0)
            roles.append(phrase.text())
        else:
            skills.append(phrase.text())

    excluded = {_key(text) for text in excluded_roles + industries + companies}
    roles = [role for role in _dedupe(roles) if _key(role) not in excluded]
    role_keys = {_key(role) for role in roles}
    skills = [s for s in _dedupe(skills) if _key(s) not in excluded and _key(s) not in role_keys]
    return roles, skills, _dedupe(excluded_roles), _dedupe(industries), _dedupe(companies)


def _distribute_heads(phrases: list[_Phrase]) -> None:
    """ "A, B or C engineer": A and B borrow C's job noun, so all three are roles."""
    index = 0
    while index < len(phrases):
        end = index
        while (
            end + 1 < len(phrases)
            and phrases[end + 1].link is not None
            and phrases[end + 1].negated == phrases[index].negated
        ):
            end += 1
        last = phrases[end]
        if end > index and last.has_role_head and last.link in ("or", "and", "/"):
            for phrase in phrases[index:end]:
                if not phrase.has_role_head:
                    phrase.raw.append(last.raw[-1])
        index = end + 1


def _looks_like_a_name(phrase: _Phrase, original: str) -> bool:
    """A capitalized word that is no known kind of work: a company ("not Amazon")."""
    if any(
        c in _ROLE_HEADS or c in _TECH or c in _WORK_DOMAINS or c in _SENIORITY_RANK
        for c in phrase.canon
    ):
        return False
    # Title Case Everywhere: capitals say nothing. Counted over the other words that do not
    # start a sentence.
    others = [
        found.group(1)
        for found in re.finditer(r"(?<![.!?\n]\s)\b([A-Za-z][A-Za-z'-]{3,})", original)
        if found.group(1).lower() not in phrase.raw and found.start() > 0
    ]
    if others and sum(word[0].isupper() for word in others) / len(others) > 0.5:
        return False
    return all(
        any(
            found.group(0)[0].isupper()
            for found in re.finditer(rf"(?<![\w]){re.escape(word)}(?![\w])", original, re.I)
        )
        for word in phrase.raw
    )


def _as_written(lowered: str, original: str) -> str:
    pattern = r"\s+".join(re.escape(word) for word in lowered.split())
    found = re.search(rf"(?<![\w]){pattern}(?![\w])", original, re.IGNORECASE)
    return found.group(0) if found else lowered


def _gibberish(word: str) -> bool:
    """Keyboard mashing and letter soup, not words: 'asdfgh', 'qwrtzp', 'aaaa'."""
    if word in _TECH or word in _DISPLAY or word in _CITIES or word in _COUNTRIES:
        return False
    letters = re.sub(r"[^a-z]", "", word)
    if not letters:
        return False
    return bool(
        (len(letters) >= 4 and not re.search(r"[aeiouy]", letters))
        or re.search(r"[^aeiouy]{6,}", letters)
        or re.search(r"(.)\1\1", letters)
        or any(run in letters for run in _KEYBOARD)
        or len(letters) > 25
    )


def _key(text: str) -> str:
    return " ".join(_canonical(token) for token in _raw_tokens(_normalize(text)))


def _dedupe(values) -> list:
    return list(dict.fromkeys(value for value in values if value))
