"""What a wish's phrases are: roles, skills, excluded roles, industries or companies."""

from __future__ import annotations

import re

from jobping_dagster.llm.local.vocabulary import SENIORITY_RANK, canonical, normalize, raw_tokens
from jobping_dagster.llm.local.wish_tokens import Phrase
from jobping_dagster.llm.local.wish_vocabulary import (
    DISPLAY,
    INDUSTRIES,
    KNOWN_COMPANIES,
    LANGUAGE_HELPERS,
    LANGUAGES,
    ROLE_HEADS,
    TECH,
    WORK_DOMAINS,
)


def classify_phrases(
    phrases: list[Phrase], original: str
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
            if any(word in INDUSTRIES for word in canon) or lowered in INDUSTRIES:
                industries.append(phrase.text())
            elif lowered in KNOWN_COMPANIES:
                companies.append(KNOWN_COMPANIES[lowered])
            elif _looks_like_a_name(phrase, original):
                companies.append(_as_written(lowered, original))
            else:
                excluded_roles.append(phrase.text())
            continue
        if all(word in LANGUAGES or word in LANGUAGE_HELPERS for word in phrase.raw):
            continue
        if phrase.has_role_head:
            tools = [w for w, c in zip(phrase.raw, canon, strict=True) if c in TECH]
            skills.extend(DISPLAY.get(word, word) for word in tools)
            # "java backend engineer": java is a skill, the role is "backend engineer";
            # "python developer" keeps its only qualifier.
            while len(phrase.raw) > 2 and canonical(phrase.raw[0]) in TECH:
                phrase.raw.pop(0)
            roles.append(phrase.text())
        else:
            skills.append(phrase.text())

    excluded = {_key(text) for text in excluded_roles + industries + companies}
    roles = [role for role in dedupe(roles) if _key(role) not in excluded]
    role_keys = {_key(role) for role in roles}
    skills = [s for s in dedupe(skills) if _key(s) not in excluded and _key(s) not in role_keys]
    return roles, skills, dedupe(excluded_roles), dedupe(industries), dedupe(companies)


def _distribute_heads(phrases: list[Phrase]) -> None:
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


def _looks_like_a_name(phrase: Phrase, original: str) -> bool:
    """A capitalized word that is no known kind of work: a company ("not Amazon")."""
    if any(
        c in ROLE_HEADS or c in TECH or c in WORK_DOMAINS or c in SENIORITY_RANK
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


def _key(text: str) -> str:
    return " ".join(canonical(token) for token in raw_tokens(normalize(text)))


def dedupe(values) -> list:
    return list(dict.fromkeys(value for value in values if value))
