"""What one LLM call used, as the provider reported it: the cost ledger's unit
(llm/ledger.py). A caller that wants its calls accounted passes a list; the LLM appends one
Usage per answered call (the local scorer's are all zero: counted, free)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    model: str
    input_tokens: int = 0
    # Of input_tokens, those served from the provider's prompt cache (cheaper).
    cached_tokens: int = 0
    output_tokens: int = 0
    batch: bool = False  # through the Batch API (half price)


UsageLog = list[Usage]


def usage_of(completion, model: str) -> Usage:
    """The Usage of an OpenAI chat completion (zeros where the API said nothing)."""
    usage = getattr(completion, "usage", None)
    details = getattr(usage, "prompt_tokens_details", None)
    return Usage(
        model=getattr(completion, "model", None) or model,
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        cached_tokens=getattr(details, "cached_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )
