"""One vocabulary for comparing wishes and postings: the local scorer's tokenizer, so that
"developer" meets "engineer", "front-end" meets "frontend" and "C++" stays one token."""

from __future__ import annotations

from jobping_dagster.llm.local.vocabulary import canonical, normalize, raw_tokens


def canonical_tokens(text: str | None) -> list[str]:
    """Lower-cased, joined and stemmed word tokens, punctuation dropped."""
    return [canonical(token) for token in raw_tokens(normalize(text or "")) if token[0].isalnum()]


def canonical_text(text: str | None) -> str:
    return " ".join(canonical_tokens(text))


def contains_phrase(haystack: set[str], phrase: str) -> bool:
    """Whether every word of `phrase` is among the canonical tokens `haystack`."""
    words = canonical_tokens(phrase)
    return bool(words) and all(word in haystack for word in words)
