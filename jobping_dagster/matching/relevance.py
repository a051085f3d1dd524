"""Relevance: a cheap similarity of a wish and a posting that ranks the pairs the gates let
through. TF-IDF over word unigrams and bigrams of the shared canonical vocabulary, with the
title counted three times (it says what the job is) and the wish reduced to its roles,
skills and seniority (places, pay and exclusions would only add noise). Chosen by
measurement on the labeled set; `benchmarks/prefilter_recall.py` prints the comparison.
No download, no key, no network."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.text import canonical_text

# The start of a description says what the job is; the rest is benefits and boilerplate.
DESCRIPTION_CHARS = 1000
TITLE_WEIGHT = 3


def job_text(title: str, company: str, location: str | None, description: str | None) -> str:
    parts = [title] * TITLE_WEIGHT + [
        company,
        location or "",
        (description or "")[:DESCRIPTION_CHARS],
    ]
    return canonical_text(". ".join(parts))


def wish_text(wishes: WishProfile, prompt: str) -> str:
    """The wish as a query: what the seeker wants to do. The whole prompt when the reader
    found no role or skill in it."""
    wanted = " ".join([*wishes.roles, *wishes.skills, *wishes.seniority])
    return canonical_text(wanted) or canonical_text(prompt)


def relevance_matrix(wish_texts: list[str], job_texts: list[str]) -> np.ndarray:
    """Cosine similarity, one row per wish and one column per posting, in [0, 1]."""
    if not wish_texts or not job_texts:
        return np.zeros((len(wish_texts), len(job_texts)))
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    try:
        vectorizer.fit(job_texts + wish_texts)
    except ValueError:  # no word at all in any text
        return np.zeros((len(wish_texts), len(job_texts)))
    # Rows are L2-normalized, so the dot product is the cosine.
    wishes = vectorizer.transform(wish_texts)
    jobs = vectorizer.transform(job_texts)
    return (wishes @ jobs.T).toarray()
