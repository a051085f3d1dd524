"""A deterministic scorer and researcher that need no network and no API key.

They are for demos, development and tests. The scorer reads the user's prompt as a list of
wishes (keywords, exclusions, seniority, remote, places, a salary floor), compares them with
the posting, and explains the result. It follows the same score bands as the LLM rubric.
It is a keyword matcher, not an understanding of language; the explanation says what it
checked so a user can tell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from jobping_dagster.llm.models import (
    CompanyFacts,
    CompanyProfile,
    JobForScoring,
    MatchAnalysis,
)

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# Spelling variants joined into one token before tokenizing (applied to prompt and posting).
_PHRASES = [
    (r"\bc\+\+", "cpp"),
    (r"\bc#", "csharp"),
    (r"(?<![a-z])\.net\b", "dotnet"),
    (r"\b([a-z]+)\.js\b", r"\1"),
    (r"\bfull[\s-]?stack\b", "fullstack"),
    (r"\bfront[\s-]?end\b", "frontend"),
    (r"\bback[\s-]?end\b", "backend"),
    (r"\bdev[\s-]?ops\b", "devops"),
    (r"\be[\s-]commerce\b", "ecommerce"),
    (r"\bmachine[\s-]learning\b", "ml"),
    (r"\bartificial intelligence\b", "ai"),
    (r"\bon[\s-]?site\b|\bin[\s-]office\b|\bin[\s-]person\b", "onsite"),
    (r"\bwork(?:ing)? from home\b|\bwfh\b|\bfully distributed\b", "remote"),
    (r"\bmid[\s-]?level\b|\bmid[\s-]senior\b", "mid"),
    (r"\bentry[\s-]?level\b", "junior"),
    (r"\btech(?:nical)? lead\b", "lead"),
    (r"\bdo(?:n'?t| not) want\b|\bnot interested in\b|\bstay away from\b", "avoid"),
    (r"\bnew york(?: city)?\b", "newyork"),
    (r"\bsan francisco\b|\bbay area\b", "sanfrancisco"),
    (r"\blos angeles\b", "losangeles"),
    (r"\bunited states(?: of america)?\b", "unitedstates"),
    (r"\bunited kingdom\b|\bgreat britain\b", "unitedkingdom"),
]
_PHRASE_PATTERNS = [(re.compile(pattern), replacement) for pattern, replacement in _PHRASES]

# Same meaning, one spelling (after stemming).
_SYNONYMS = {
    "developer": "engineer",
    "programmer": "engineer",
    "dev": "engineer",
    "swe": "engineer",
    "golang": "go",
    "postgresql": "postgres",
    "js": "javascript",
    "ts": "typescript",
    "k8s": "kubernetes",
    "engineering": "engineer",
    "management": "manager",
    "mgr": "manager",
    "sr": "senior",
    "jr": "junior",
    "internship": "intern",
    "trainee": "intern",
    "graduate": "junior",
    "intermediate": "mid",
    "distinguished": "principal",
}

# How to show a joined token back to the user.
_SPELLED = {"cpp": "c++", "csharp": "c#", "dotnet": ".net", "ml": "machine learning"}

_SENIORITY_RANK = {
    "intern": 0,
    "junior": 1,
    "mid": 2,
    "senior": 3,
    "lead": 4,
    "staff": 4,
    "principal": 5,
}

_NEGATORS = set(
    "no not avoid avoiding without except excluding exclude never non nothing nor".split()
)
# Inside a negation these continue it ("no crypto or gambling"); anything else content-free
# ends it after a few words. "and" ends it: "no crypto and remote" wants remote.
_NEGATION_CONTINUES = {"or", "nor", "/", "any", "a", "an", "the", "more", "in", "at", "from"}
_NEGATION_WORDS = 3

_STOP_WORDS = set(
    """i im i'm me my we our you your a an the and or but of in on at to for with from by as
    is are be been being am it its this that these those into onto over than then so very
    want wants wanted wanting looking look seek seeking like would love prefer preferred
    preferably ideally interested need needs must should could can will also only just
    job jobs role roles position positions opportunity opportunities work working career
    based least minimum min max maximum salary pay paying paid compensation comp base
    year years yr yrs annual annually per month monthly hour hourly plus k etc something
    some any all good great nice new open anywhere world worldwide level experience exp
    company companies team teams time full part type kind sort place area please thanks
    eur usd gbp chf cad aud euro euros dollar dollars pound pounds around about approx
    up more less most""".split()
)

# Where places are: region -> names and codes that fall inside it. Names can be wished in a
# prompt; the short codes only count inside a posting's location ("Berlin, BE, DE"), because
# in a prompt "at", "it" or "de" are ordinary words.
_REGIONS: dict[str, tuple[set[str], set[str]]] = {
    "europe": (
        set(
            """europe european eu emea germany deutschland berlin munich hamburg frankfurt
            cologne stuttgart france paris lyon toulouse spain madrid barcelona valencia
            netherlands holland amsterdam rotterdam utrecht eindhoven belgium brussels antwerp
            ireland dublin cork portugal lisbon porto italy milan rome turin poland warsaw
            krakow wroclaw gdansk sweden stockholm gothenburg malmo denmark copenhagen aarhus
            finland helsinki austria vienna switzerland zurich geneva basel czechia czech
            prague brno greece athens romania bucharest cluj hungary budapest estonia tallinn
            latvia riga lithuania vilnius luxembourg norway oslo croatia zagreb slovenia
            ljubljana slovakia bratislava bulgaria sofia cyprus malta uk unitedkingdom britain
            england scotland wales london manchester edinburgh bristol cambridge oxford
            glasgow leeds birmingham""".split()
        ),
        set("de fr es nl be ie pt it pl se dk fi at ch cz gr ro hu ee lv lt lu no gb".split()),
    ),
    "uk": (
        set(
            """uk unitedkingdom britain england scotland wales london manchester edinburgh
            bristol cambridge oxford glasgow leeds birmingham""".split()
        ),
        {"gb"},
    ),
    "us": (
        set(
            """us usa america unitedstates newyork nyc sanfrancisco sf seattle austin boston
            chicago losangeles denver atlanta miami dallas houston portland philadelphia
            washington""".split()
        ),
        set("ny ca tx wa ma il co ga fl nc va or pa nj az mn ut dc".split()),
    ),
    "canada": ({"canada", "toronto", "vancouver", "montreal", "ottawa", "calgary"}, {"on", "bc"}),
}
_REGION_ALIASES = {
    "eu": "europe",
    "european": "europe",
    "emea": "europe",
    "europe": "europe",
    "uk": "uk",
    "unitedkingdom": "uk",
    "britain": "uk",
    "us": "us",
    "usa": "us",
    "america": "us",
    "unitedstates": "us",
    "canada": "canada",
}
_PLACE_NAMES = set(_REGION_ALIASES) | {name for names, _ in _REGIONS.values() for name in names}

_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_CURRENCY_WORDS = {
    **dict.fromkeys(("usd", "dollar", "dollars"), "USD"),
    **dict.fromkeys(("eur", "euro", "euros"), "EUR"),
    **dict.fromkeys(("gbp", "pound", "pounds"), "GBP"),
    **{code: code.upper() for code in ("chf", "cad", "aud")},
}
_SALARY = re.compile(
    r"(?P<symbol>[$€£])?\s?"
    r"(?<![\w.,])(?P<number>\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<k>k|thousand)\b)?"
    r"(?:\s?(?P<word>usd|eur|euros?|gbp|pounds?|dollars?|chf|cad|aud)\b)?"
    r"(?:\s?(?:/|per|an?)\s?(?P<unit>h|hr|hour|month|mo)\b)?",
)
_RANGE_DASH = re.compile(r"^\s?(?:-|–|to)\s?")

# Text in a posting that addresses an AI screener instead of a candidate. Such sentences are
# dropped before matching, so they can never add points.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\bjailbreak\b"
    r"|\bas an? (?:ai|llm|language model)\b"
    r"|\b(?:ai|llm|gpt|chatgpt|language model|assistant|screener|scorer)s?\b.{0,60}"
    r"\b(?:score|rate|rank|recommend)"
    r"|\b(?:score|rate)\b.{0,30}(?:\b100\b|10/10|\bperfect\b|\bhighest\b|\bmaximum\b)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")

# Words in a location field that say how, not where.
_NOT_PLACES = {"remote", "hybrid", "onsite", "anywhere", "worldwide", "global"}

_BOARD_HOSTS = ("linkedin.", "indeed.", "glassdoor.", "ziprecruiter.", "google.", "naukri.")


# ---------------------------------------------------------------------------------------------
# Reading the user's prompt
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wishes:
    """What the scorer understood from a prompt. Terms are canonical (stemmed) tokens."""

    keywords: tuple[str, ...] = ()  # wanted roles and skills
    excluded: tuple[str, ...] = ()  # "no crypto", "not manager", "avoid agencies"
    seniority: tuple[str, ...] = ()  # wanted levels, e.g. ("senior",)
    places: tuple[str, ...] = ()  # wanted places or regions, e.g. ("europe",) or ("berlin",)
    remote: bool | None = None  # True: wants remote; False: wants on-site; None: not said
    accepts_hybrid: bool = False
    min_salary: float | None = None  # yearly
    salary_currency: str | None = None
    display: tuple[tuple[str, str], ...] = ()  # canonical term -> the user's word

    @property
    def is_empty(self) -> bool:
        return not (
            self.keywords
            or self.excluded
            or self.seniority
            or self.places
            or self.remote is not None
            or self.min_salary is not None
        )

    def show(self, term: str) -> str:
        return dict(self.display).get(term, term)


@lru_cache(maxsize=1024)
def parse_wishes(prompt: str) -> Wishes:
    text = (prompt or "").lower()
    min_salary, currency, text = _extract_salary(text)
    keywords: dict[str, None] = {}
    excluded: dict[str, None] = {}
    seniority: dict[str, None] = {}
    places: dict[str, None] = {}
    display: dict[str, str] = {}
    remote: bool | None = None
    accepts_hybrid = False

    negating = 0  # content words left in the current negation
    for raw in _raw_tokens(_normalize(text)):
        if raw in _NEGATORS:
            negating = _NEGATION_WORDS
            continue
        if not raw[0].isalnum():  # punctuation ends a negation; "/" lists ("no php/perl")
            if raw != "/":
                negating = 0
            continue
        if raw in ("and", "but", "with", "yes"):
            negating = 0
            continue
        term = _canonical(raw)
        if len(term) == 1 and term not in ("c", "r"):
            continue  # stray letters ("e.g.", "i'm"); C and R are languages
        if negating and (raw in _NEGATION_CONTINUES or term in _STOP_WORDS):
            continue
        negated = negating > 0
        negating = max(negating - 1, 0)

        if term in ("remote", "onsite"):
            wants_remote = (term == "remote") != negated
            remote = wants_remote if remote is None else remote or wants_remote
            continue
        if term == "hybrid":
            accepts_hybrid = not negated
            continue
        if negated:
            excluded.setdefault(term)
            display.setdefault(term, raw)
            continue
        if term in _SENIORITY_RANK:
            seniority.setdefault(term)
        elif raw in _PLACE_NAMES:
            places.setdefault(_REGION_ALIASES.get(raw, raw))
        elif term not in _STOP_WORDS and not term.isdigit():
            keywords.setdefault(term)
            display.setdefault(term, _SPELLED.get(raw, raw))

    return Wishes(
        keywords=tuple(k for k in keywords if k not in excluded),
        excluded=tuple(excluded),
        seniority=tuple(s for s in seniority if s not in excluded),
        places=tuple(places),
        remote=remote,
        accepts_hybrid=accepts_hybrid,
        min_salary=min_salary,
        salary_currency=currency,
        display=tuple(display.items()),
    )


def _extract_salary(text: str) -> tuple[float | None, str | None, str]:
    """The lowest salary-looking amount (the floor), its currency, and the text without
    the amounts. An amount needs a 'k', a currency, or five digits: '5+ years' is not pay."""
    amounts: list[tuple[float, str | None]] = []
    spans: list[tuple[int, int]] = []
    matches = list(_SALARY.finditer(text))
    for index, match in enumerate(matches):
        number = match["number"]
        if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", number):
            value = float(re.sub(r"[,.]", "", number))
        else:
            value = float(number)
        has_k = bool(match["k"])
        following = matches[index + 1] if index + 1 < len(matches) else None
        # "120-150k": the first number borrows the second one's 'k' and currency.
        joined = following is not None and _RANGE_DASH.match(text[match.end() : following.start()])
        if not has_k and joined and following["k"] and value < 1000:
            has_k = True
        currency = _currency(match) or (_currency(following) if joined else None)
        if has_k:
            value *= 1000
        if not (has_k or currency or value >= 10_000):
            continue
        if match["unit"] in ("h", "hr", "hour"):
            continue  # hourly rates are not compared with yearly salaries
        if match["unit"] in ("month", "mo"):
            value *= 12
        amounts.append((value, currency))
        spans.append(match.span())
    for start, end in reversed(spans):
        text = text[:start] + " , " + text[end:]
    if not amounts:
        return None, None, text
    value, currency = min(amounts, key=lambda amount: amount[0])
    currency = currency or next((c for _, c in amounts if c), None)
    return value, currency, text


def _currency(match: re.Match | None) -> str | None:
    if match is None:
        return None
    if match["symbol"]:
        return _CURRENCY_SYMBOLS[match["symbol"]]
    if match["word"]:
        return _CURRENCY_WORDS[match["word"]]
    return None


# ---------------------------------------------------------------------------------------------
# Reading a posting
# ---------------------------------------------------------------------------------------------


def _normalize(text: str) -> str:
    text = (text or "").lower()
    for pattern, replacement in _PHRASE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _raw_tokens(normalized: str) -> list[str]:
    return re.findall(r"[a-z0-9]+|[,.;:!?()\n/]", normalized)


def _canonical(token: str) -> str:
    token = _SYNONYMS.get(token, token)
    if len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    return _SYNONYMS.get(token, token)


def _terms(text: str | None) -> set[str]:
    return {_canonical(t) for t in _raw_tokens(_normalize(text or "")) if t[0].isalnum()}


def strip_injections(text: str) -> tuple[str, bool]:
    """The text without sentences addressed to an AI screener, and whether any were found."""
    sentences = _SENTENCE_END.split(text or "")
    kept = [sentence for sentence in sentences if not _INJECTION.search(sentence)]
    return " ".join(kept), len(kept) != len(sentences)


def _seniority_of(title_terms: set[str]) -> str | None:
    levels = [term for term in title_terms if term in _SENIORITY_RANK]
    return max(levels, key=lambda level: (_SENIORITY_RANK[level], level)) if levels else None


def _in_place(place: str, location_terms: set[str]) -> bool:
    region = _REGIONS.get(place)
    if region is None:
        return place in location_terms
    names, codes = region
    aliases = {alias for alias, target in _REGION_ALIASES.items() if target == place}
    return bool(location_terms & (names | codes | aliases))


def _money(value: float) -> str:
    return f"{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------

# How much each kind of wish counts when the prompt states it. Keywords weigh most.
_WEIGHTS = {"keywords": 50, "seniority": 15, "remote": 15, "salary": 10, "place": 10}
TITLE_BONUS = 0.2  # any wished keyword in the title: the title says what the job is
# Words most titles share: they say little about which job it is, so they earn no title
# bonus, and a title matching only these cannot reach the "apply" band.
_GENERIC_TITLE_WORDS = {
    "engineer",
    "engineers",
    "engineering",
    "developer",
    "developers",
    "development",
    "software",
    "systems",
    "system",
    "specialist",
    "associate",
    "manager",
    "design",
}
GENERIC_TITLE_CAP = 69


@dataclass
class _Verdict:
    fits: dict[str, float] = field(default_factory=dict)  # dimension -> 0..1
    caps: list[tuple[int, str]] = field(default_factory=list)  # (maximum score, why)
    pros: list[str] = field(default_factory=list)
    cons: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # wished terms found, as the user wrote
    missing: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # excluded terms the posting lacks


class LocalScorer:
    model_name = "local-keyword-v1"

    def score(
        self, job: JobForScoring, user_prompt: str, company: CompanyProfile | None
    ) -> MatchAnalysis:
        wishes = parse_wishes(user_prompt or "")
        if wishes.is_empty:
            return MatchAnalysis(
                score=50,
                explanation=(
                    "Your prompt names nothing this keyword scorer can check (roles, skills, "
                    "seniority, remote, location or a salary floor), so the score is neutral."
                ),
                pros=[],
                cons=["Nothing in the prompt to compare with the posting"],
                recommendation="consider",
            )

        description, injected = strip_injections(job.description)
        title = _terms(job.title)
        company_terms = _terms(job.company)
        if company is not None:
            company_terms |= _terms(company.industry)
        body = _terms(description) | _terms(job.job_type) | _terms(job.location)
        if company is not None:
            body |= _terms(company.summary)
        location_words = _terms(job.location)
        location = location_words - _NOT_PLACES

        verdict = _Verdict()
        _check_exclusions(wishes, title | company_terms, body, verdict)
        _check_keywords(wishes, title, body | company_terms, verdict)
        _check_seniority(wishes, title, verdict)
        mode = _work_mode(job, title, location_words, _terms(description))
        _check_remote(wishes, mode, verdict)
        _check_place(wishes, location, mode, job.location, verdict)
        _check_salary(wishes, job, verdict)
        if verdict.absent:
            verdict.pros.append("No sign of: " + ", ".join(verdict.absent))
        if injected:
            verdict.cons.append("The posting contains text aimed at AI screeners (ignored)")
        if company is not None:
            verdict.cons.extend(f"Company research: {flag}" for flag in company.red_flags[:3])

        total = sum(_WEIGHTS[name] for name in verdict.fits)
        earned = sum(_WEIGHTS[name] * fit for name, fit in verdict.fits.items())
        score = round(100 * earned / total) if total else 50
        cap_reason = None
        for cap, reason in sorted(verdict.caps):
            if score > cap:
                score, cap_reason = cap, reason
        return MatchAnalysis(
            score=score,
            explanation=_explain(score, wishes, verdict, cap_reason),
            pros=verdict.pros[:6],
            cons=verdict.cons[:6],
            recommendation=_recommendation(score),
        )


def _recommendation(score: int) -> str:
    return "apply" if score >= 70 else "consider" if score >= 40 else "skip"


def _check_exclusions(wishes: Wishes, strong: set[str], weak: set[str], verdict: _Verdict):
    for term in wishes.excluded:
        word = wishes.show(term)
        if term in strong:
            verdict.caps.append((15, f"the title or company matches '{word}', which you exclude"))
            verdict.cons.append(f"Title or company matches '{word}', which you want to avoid")
        elif term in weak:
            verdict.caps.append((30, f"the posting mentions '{word}', which you exclude"))
            verdict.cons.append(f"The posting mentions '{word}', which you want to avoid")
        else:
            verdict.absent.append(word)


def _check_keywords(wishes: Wishes, title: set[str], body: set[str], verdict: _Verdict):
    if not wishes.keywords:
        return
    in_title = [k for k in wishes.keywords if k in title]
    in_body = [k for k in wishes.keywords if k not in title and k in body]
    missing = [k for k in wishes.keywords if k not in title and k not in body]
    specific_in_title = [k for k in in_title if k not in _GENERIC_TITLE_WORDS]
    credit = (len(in_title) + 0.6 * len(in_body)) / len(wishes.keywords)
    verdict.fits["keywords"] = min(1.0, credit + (TITLE_BONUS if specific_in_title else 0.0))
    verdict.matched = [wishes.show(k) for k in in_title + in_body]
    verdict.missing = [wishes.show(k) for k in missing]
    if in_title:
        verdict.pros.append("Title matches: " + ", ".join(wishes.show(k) for k in in_title))
    if in_body:
        verdict.pros.append("Posting mentions: " + ", ".join(wishes.show(k) for k in in_body))
    if missing:
        verdict.cons.append("Not found in the posting: " + ", ".join(verdict.missing))
    if not in_title and not in_body:
        verdict.caps.append((30, "none of your keywords appear in the posting"))
    elif not specific_in_title and any(k not in _GENERIC_TITLE_WORDS for k in wishes.keywords):
        verdict.caps.append(
            (GENERIC_TITLE_CAP, "the title names none of the specific things you asked for")
        )


def _check_seniority(wishes: Wishes, title: set[str], verdict: _Verdict):
    if not wishes.seniority:
        return
    level = _seniority_of(title)
    wanted = " or ".join(wishes.seniority)
    if level is None:
        verdict.fits["seniority"] = 0.6
        verdict.cons.append(f"Seniority not stated in the title (you want {wanted})")
        return
    distance = min(abs(_SENIORITY_RANK[level] - _SENIORITY_RANK[w]) for w in wishes.seniority)
    if distance == 0:
        verdict.fits["seniority"] = 1.0
        verdict.pros.append(f"Seniority: {level}, as you want")
    elif distance == 1:
        verdict.fits["seniority"] = 0.4
        verdict.cons.append(f"Seniority: {level}, you want {wanted}")
    else:
        verdict.fits["seniority"] = 0.0
        verdict.cons.append(f"Seniority: {level}, far from the {wanted} level you want")
        verdict.caps.append((45, f"the level ({level}) is far from {wanted}"))


def _work_mode(job: JobForScoring, title: set[str], location: set[str], body: set[str]) -> str:
    """remote, hybrid, onsite, or unknown: the flag first, then what the text says."""
    if job.is_remote or "remote" in title | location:
        return "remote"
    if "hybrid" in title | location | body:
        return "hybrid"
    if job.is_remote is False:
        return "onsite"
    if "remote" in body:
        return "remote-mentioned"
    return "unknown"


def _check_remote(wishes: Wishes, mode: str, verdict: _Verdict):
    if wishes.remote is None:
        return
    if wishes.remote is False:  # the user wants to be in an office
        fit = {"onsite": 1.0, "hybrid": 0.8, "remote": 0.3}.get(mode, 0.6)
        verdict.fits["remote"] = fit
        (verdict.pros if fit >= 0.8 else verdict.cons).append(f"Work mode: {mode}")
        return
    if mode == "remote":
        verdict.fits["remote"] = 1.0
        verdict.pros.append("Remote, as you want")
    elif mode == "remote-mentioned":
        verdict.fits["remote"] = 0.7
        verdict.pros.append("The description mentions remote work (not flagged as remote)")
    elif mode == "hybrid" and wishes.accepts_hybrid:
        verdict.fits["remote"] = 0.8
        verdict.pros.append("Hybrid, which you accept")
    elif mode == "hybrid":
        verdict.fits["remote"] = 0.3
        verdict.cons.append("Hybrid, not fully remote")
        verdict.caps.append((60, "the job is hybrid and you want remote"))
    elif mode == "onsite":
        verdict.fits["remote"] = 0.0
        verdict.cons.append("On-site: not remote")
        verdict.caps.append((35, "the job is on-site and you want remote"))
    else:
        verdict.fits["remote"] = 0.5
        verdict.cons.append("Remote work not stated")


def _check_place(
    wishes: Wishes, location: set[str], mode: str, location_text: str | None, verdict: _Verdict
):
    if not wishes.places:
        return
    wanted = " or ".join(p.upper() if len(p) <= 2 else p.title() for p in wishes.places)
    shown = " ".join((location_text or "").split())
    if not location:
        verdict.fits["place"] = 0.5
        verdict.cons.append(f"Location not stated (you want {wanted})")
    elif any(_in_place(place, location) for place in wishes.places):
        verdict.fits["place"] = 1.0
        verdict.pros.append(f"Location {shown} is in {wanted}")
    elif mode == "remote":
        verdict.fits["place"] = 0.4
        verdict.cons.append(f"Remote, but based in {shown} (you want {wanted})")
    else:
        verdict.fits["place"] = 0.0
        verdict.cons.append(f"Location {shown} is not in {wanted}")
        verdict.caps.append((35, f"the location ({shown}) is not in {wanted}"))


def _check_salary(wishes: Wishes, job: JobForScoring, verdict: _Verdict):
    if wishes.min_salary is None:
        return
    floor = f"{_money(wishes.min_salary)} {wishes.salary_currency or ''}".strip()
    best = max((v for v in (job.salary_min, job.salary_max) if v is not None), default=None)
    if best is None:
        verdict.fits["salary"] = 0.5
        verdict.cons.append(f"Salary not stated (your floor: {floor})")
        return
    currency = (job.salary_currency or "").upper() or None
    low = job.salary_min if job.salary_min is not None else best
    offered = _money(low) if low == best else f"{_money(low)}-{_money(best)}"
    offered = f"{offered} {currency or ''}".strip()
    if wishes.salary_currency and currency and wishes.salary_currency != currency:
        verdict.fits["salary"] = 0.5
        verdict.cons.append(f"Salary {offered} is in another currency than your floor {floor}")
    elif best >= wishes.min_salary:
        verdict.fits["salary"] = 1.0
        verdict.pros.append(f"Salary {offered} meets your floor of {floor}")
    elif best >= 0.9 * wishes.min_salary:
        verdict.fits["salary"] = 0.4
        verdict.cons.append(f"Salary {offered} is slightly below your floor of {floor}")
        verdict.caps.append((80, f"the salary ({offered}) is slightly below your floor"))
    else:
        verdict.fits["salary"] = 0.0
        verdict.cons.append(f"Salary {offered} is below your floor of {floor}")
        verdict.caps.append((35, f"the salary ({offered}) is below your floor of {floor}"))


def _explain(score: int, wishes: Wishes, verdict: _Verdict, cap_reason: str | None) -> str:
    sentences = []
    if wishes.keywords:
        if verdict.matched:
            sentence = "Matched your terms: " + ", ".join(verdict.matched)
            if verdict.missing:
                sentence += "; not found: " + ", ".join(verdict.missing)
            sentences.append(sentence + ".")
        else:
            sentences.append(
                "None of your terms (" + ", ".join(verdict.missing) + ") appear in the posting."
            )
    checks = [c for c in verdict.pros if not c.startswith(("Title matches", "Posting mentions"))]
    misses = [c for c in verdict.cons if not c.startswith("Not found in the posting")]
    if checks:
        sentences.append("Fits: " + "; ".join(c[0].lower() + c[1:] for c in checks[:3]) + ".")
    if misses:
        sentences.append("Against: " + "; ".join(c[0].lower() + c[1:] for c in misses[:3]) + ".")
    verdict_sentence = f"Score {score}/100 ({_recommendation(score)})"
    if cap_reason:
        verdict_sentence += f", capped because {cap_reason}"
    sentences.append(verdict_sentence + ".")
    return " ".join(sentences[-4:] if len(sentences) > 4 else sentences)


# ---------------------------------------------------------------------------------------------
# Research
# ---------------------------------------------------------------------------------------------


class LocalResearcher:
    """A profile built only from what the job boards said: unknown stays None."""

    model_name = "local-facts-v1"

    def research(self, facts: CompanyFacts) -> CompanyProfile:
        fields = _clean_fields(facts.fields)
        postings = facts.postings
        description, injected = strip_injections(fields.get("description", ""))

        sentences = [s for s in _SENTENCE_END.split(description.strip()) if s][:3]
        summary = " ".join(sentences)[:600]
        if not summary:
            summary = f"{facts.name}: the job boards gave no description of the company."
        if postings:
            titles = _distinct(p.title for p in postings)
            summary += f" Open roles seen: {', '.join(titles[:5])}."

        culture = []
        remote_known = [p.is_remote for p in postings if p.is_remote is not None]
        if remote_known:
            culture.append(f"Remote: {sum(remote_known)} of {len(remote_known)} postings")
        locations = _distinct(p.location for p in postings if p.location)
        if locations:
            culture.append("Hiring in: " + "; ".join(locations[:5]))
        culture.extend(_salary_ranges(postings))
        job_types = _distinct(p.job_type for p in postings if p.job_type)
        if job_types:
            culture.append("Job types: " + ", ".join(job_types))
        for name, label in (("revenue", "Revenue"), ("rating", "Rating on the job board")):
            if name in fields:
                culture.append(f"{label}: {fields[name]}")

        red_flags = []
        if injected or any(strip_injections(p.description)[1] for p in postings):
            red_flags.append("Its postings contain text aimed at AI screeners")

        return CompanyProfile(
            summary=summary,
            industry=fields.get("industry"),
            size=fields.get("num_employees") or fields.get("size") or fields.get("employees"),
            headquarters=fields.get("headquarters") or fields.get("addresses"),
            website=_website(fields),
            culture=culture,
            red_flags=red_flags,
        )


def _clean_fields(fields: dict[str, str]) -> dict[str, str]:
    """Board fields with the 'company_' prefix dropped and empty or 'nan' values left out."""
    cleaned = {}
    for name, value in (fields or {}).items():
        text = " ".join(str(value).split()) if value is not None else ""
        if text and text.lower() not in ("nan", "none", "null", "n/a"):
            cleaned[name.lower().removeprefix("company_")] = text[:2000]
    return cleaned


def _website(fields: dict[str, str]) -> str | None:
    for name in ("url_direct", "website", "url"):
        url = fields.get(name)
        # A board's company page (linkedin.com/company/...) is not the company's website.
        if url and not any(host in url.lower() for host in _BOARD_HOSTS):
            return url
    return None


def _salary_ranges(postings: list[JobForScoring]) -> list[str]:
    by_currency: dict[str, list[float]] = {}
    for p in postings:
        values = [v for v in (p.salary_min, p.salary_max) if v is not None]
        if values:
            by_currency.setdefault((p.salary_currency or "").upper(), []).extend(values)
    ranges = []
    for currency, values in sorted(by_currency.items()):
        low, high = min(values), max(values)
        amount = _money(low) if low == high else f"{_money(low)}-{_money(high)}"
        ranges.append(f"Salaries in postings: {amount} {currency or '(currency not stated)'}")
    return ranges


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(" ".join(str(v).split()) for v in values if v))
