"""One pass over a wish's tokens, with the scorer's negation rules, collecting phrases
(runs of content words, negated or not), places, work mode, seniority, languages and job
types. What the phrases are is decided afterwards (`wish_phrases`)."""

from __future__ import annotations

import re

from jobping_dagster.llm.local.vocabulary import (
    NEGATION_CONTINUES,
    NEGATION_WORDS,
    NEGATORS,
    SENIORITY_RANK,
    STOP_WORDS,
    canonical,
)
from jobping_dagster.llm.local.wish_places import AMBIGUOUS, CITIES, COUNTRIES, WIDE_REGIONS
from jobping_dagster.llm.local.wish_vocabulary import (
    DISPLAY,
    FILLER,
    HARD_STOPS,
    JOB_TYPES,
    KEYBOARD,
    LANGUAGE_HELPERS,
    LANGUAGES,
    LIST_SEPARATORS,
    PHRASE_STOP_WORDS,
    ROLE_HEADS,
    TECH,
)

MAX_PHRASE_WORDS = 5  # a longer run of content words is prose, not a role or a skill


class Phrase:
    """Consecutive content words, negated or not, and how it joins the previous phrase."""

    def __init__(self, negated: bool, link: str | None):
        self.negated = negated
        self.link = link  # ",", "or", "and", "/" when in a list with the previous phrase
        self.raw: list[str] = []

    @property
    def canon(self) -> list[str]:
        return [canonical(word) for word in self.raw]

    @property
    def has_role_head(self) -> bool:
        return bool(self.raw) and self.canon[-1] in ROLE_HEADS

    def text(self) -> str:
        return " ".join(DISPLAY.get(word, word) for word in self.raw)


class WishTokenReader:
    """One pass over the tokens, with the local scorer's negation rules, collecting
    phrases, places, work mode, seniority, languages and job types."""

    def __init__(self, tokens: list[str]):
        self.tokens = tokens
        self.phrases: list[Phrase] = []
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
        self._current: Phrase | None = None
        self._link: str | None = None
        self._negating = 0  # content words left in the current negation
        self._list_negation = False  # the negation reaches over a "X, Y or Z" list
        self._too_long = False  # the current run of words is prose: dropped when it ends

    def run(self) -> None:
        for index, raw in enumerate(self.tokens):
            self._step(index, raw)
        self._end(None)

    def _step(self, index: int, raw: str) -> None:
        if self._clause_word(index, raw):
            return
        term = canonical(raw)
        if raw.isdigit() or (len(term) == 1 and term not in ("c", "r")):
            self._end(None)
            return
        following = self.tokens[index + 1] if index + 1 < len(self.tokens) else ""
        if raw in PHRASE_STOP_WORDS and canonical(following) in ROLE_HEADS:
            pass  # "career coach", "team manager": part of the role
        elif raw in NEGATION_CONTINUES or term in STOP_WORDS or raw == "us":
            self._end(None)  # a stop word ends a phrase, not a negation
            return
        negated = self._negating > 0
        if self._wish_word(index, raw, term, negated):
            self._end(None)
            self._spend()
            return
        if raw in FILLER or term in FILLER or raw in LANGUAGE_HELPERS:
            self._end(None)
            return
        if _gibberish(raw):
            self.unreadable.append(raw)
            self._end(None)
            return
        if term in SENIORITY_RANK and term != "staff" and not negated:
            self.seniority.append(term)
            return  # "senior java engineer": the phrase goes on without the level
        if raw in LANGUAGES and not negated:
            self.languages.append(LANGUAGES[raw])
            if following in LANGUAGE_HELPERS or following in (",", ".", "and", "or", "\n"):
                self._end(None)
                return  # "German-speaking", "English and French": a language, not a skill
        self._add_to_phrase(raw, negated)

    def _clause_word(self, index: int, raw: str) -> bool:
        """Handles a negator, a list separator or a clause end; whether it was one."""
        if raw in NEGATORS and raw != "nor":
            self._end(None)
            self._negating = NEGATION_WORDS
            self._list_negation = _negated_list_follows(self.tokens, index)
            return True
        if raw in LIST_SEPARATORS:
            if raw in ("and", ",") and not self._list_negation:
                self._negating = 0
            elif self._negating or raw == "nor":
                self._negating = NEGATION_WORDS  # each listed item gets a fresh window
            self._end("or" if raw == "nor" else raw)
            return True
        if not raw[0].isalnum() or raw in ("but", "with", "yes"):
            self._end(None)
            self._negating = 0
            self._list_negation = False
            return True
        return False

    def _add_to_phrase(self, raw: str, negated: bool) -> None:
        if self._current is not None and self._current.negated != negated:
            self._end(None)
        if self._current is None:
            self._current = Phrase(negated, self._link)
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
        elif raw in JOB_TYPES:
            self.job_types.append(JOB_TYPES[raw])
        elif raw in WIDE_REGIONS:
            self.wide_regions.append(WIDE_REGIONS[raw])
        elif raw in COUNTRIES:
            if negated:
                self.avoided_places.append(raw.upper() if len(raw) <= 3 else raw.title())
            else:
                self.country_codes.append(COUNTRIES[raw])
        elif raw in CITIES:
            if negated:
                self.avoided_places.append(CITIES[raw][0])
            else:
                self.cities.append(CITIES[raw])
        elif raw in AMBIGUOUS:
            if negated:
                self.avoided_places.append(raw.title())
            else:
                self.ambiguous.append(AMBIGUOUS[raw])
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
        if raw in HARD_STOPS or raw in ("but", "with") or raw in NEGATORS:
            return False
        if raw == ",":
            comma = True
        elif raw in ("or", "nor", "and"):
            return comma
    return False


def _gibberish(word: str) -> bool:
    """Keyboard mashing and letter soup, not words: 'asdfgh', 'qwrtzp', 'aaaa'."""
    if word in TECH or word in DISPLAY or word in CITIES or word in COUNTRIES:
        return False
    letters = re.sub(r"[^a-z]", "", word)
    if not letters:
        return False
    return bool(
        (len(letters) >= 4 and not re.search(r"[aeiouy]", letters))
        or re.search(r"[^aeiouy]{6,}", letters)
        or re.search(r"(.)\1\1", letters)
        or any(run in letters for run in KEYBOARD)
        or len(letters) > 25
    )
