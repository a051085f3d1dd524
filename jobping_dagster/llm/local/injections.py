"""Text in a posting that addresses an AI screener instead of a candidate, and its removal."""

from __future__ import annotations

import re

# Such sentences are dropped before matching, so they can never add points.
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\bjailbreak\b"
    r"|\bas an? (?:ai|llm|language model)\b"
    r"|\b(?:ai|llm|gpt|chatgpt|language model|assistant|screener|scorer)s?\b.{0,60}"
    r"\b(?:score|rate|rank|recommend)"
    r"|\b(?:score|rate)\b.{0,30}(?:\b100\b|10/10|\bperfect\b|\bhighest\b|\bmaximum\b)",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def strip_injections(text: str) -> tuple[str, bool]:
    """The text without sentences addressed to an AI screener, and whether any were found."""
    sentences = SENTENCE_END.split(text or "")
    kept = [sentence for sentence in sentences if not _INJECTION.search(sentence)]
    return " ".join(kept), len(kept) != len(sentences)
