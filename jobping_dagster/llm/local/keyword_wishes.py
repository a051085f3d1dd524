"""What the keyword scorer understands from a prompt: keywords, exclusions, seniority,
remote, places and a salary floor, as canonical tokens (`Wishes`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from jobping_dagster.llm.local.places import PLACE_NAMES, REGION_ALIASES
from jobping_dagster.llm.local.salary import extract_salary
from jobping_dagster.llm.local.vocabulary import (
    NEGATION_CONTINUES,
    NEGATION_WORDS,
    NEGATORS,
    SENIORITY_RANK,
    SPELLED,
    STOP_WORDS,
    canonical,
    normalize,
    raw_tokens,
)


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
    min_salary, currency, text = extract_salary((prompt or "").lower())
    found = _FoundWishes()
    for raw, term, negated in _content_words(normalize(text)):
        found.add(raw, term, negated)
    return Wishes(
        keywords=tuple(k for k in found.keywords if k not in found.excluded),
        excluded=tuple(found.excluded),
        seniority=tuple(s for s in found.seniority if s not in found.excluded),
        places=tuple(found.places),
        remote=found.remote,
        accepts_hybrid=found.accepts_hybrid,
        min_salary=min_salary,
        salary_currency=currency,
        display=tuple(found.display.items()),
    )


def _content_words(normalized: str) -> Iterator[tuple[str, str, bool]]:
    """Each content word as (raw token, canonical term, negated). A negator ("no", "avoid")
    negates the next few content words; punctuation and "and", "but", "with" end it."""
    negating = 0  # content words left in the current negation
    for raw in raw_tokens(normalized):
        if raw in NEGATORS:
            negating = NEGATION_WORDS
            continue
        if not raw[0].isalnum():  # punctuation ends a negation; "/" lists ("no php/perl")
            if raw != "/":
                negating = 0
            continue
        if raw in ("and", "but", "with", "yes"):
            negating = 0
            continue
        term = canonical(raw)
        if len(term) == 1 and term not in ("c", "r"):
            continue  # stray letters ("e.g.", "i'm"); C and R are languages
        if negating and (raw in NEGATION_CONTINUES or term in STOP_WORDS):
            continue
        yield raw, term, negating > 0
        negating = max(negating - 1, 0)


@dataclass
class _FoundWishes:
    """The wishes so far; dicts keep the order words came in, without repeats."""

    keywords: dict[str, None] = field(default_factory=dict)
    excluded: dict[str, None] = field(default_factory=dict)
    seniority: dict[str, None] = field(default_factory=dict)
    places: dict[str, None] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    remote: bool | None = None
    accepts_hybrid: bool = False

    def add(self, raw: str, term: str, negated: bool) -> None:
        if term in ("remote", "onsite"):
            wants_remote = (term == "remote") != negated
            self.remote = wants_remote if self.remote is None else self.remote or wants_remote
        elif term == "hybrid":
            self.accepts_hybrid = not negated
        elif negated:
            self.excluded.setdefault(term)
            self.display.setdefault(term, raw)
        elif term in SENIORITY_RANK:
            self.seniority.setdefault(term)
        elif raw in PLACE_NAMES:
            self.places.setdefault(REGION_ALIASES.get(raw, raw))
        elif term not in STOP_WORDS and not term.isdigit():
            self.keywords.setdefault(term)
            self.display.setdefault(term, SPELLED.get(raw, raw))
