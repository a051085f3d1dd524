"""What LLM tokens cost: US dollars per million tokens for each model, as an operator sets
them (JOBPING_LLM_PRICES; providers change their lists), and the cost of what a call used.
The Batch API charges half."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# OpenAI's list prices (input / cached input / output, USD per 1M tokens), December 2026.
DEFAULT_PRICES = (
    "gpt-4o-mini=0.15/0.075/0.60, gpt-4o=2.50/1.25/10.00, "
    "gpt-4.1-nano=0.10/0.025/0.40, gpt-4.1-mini=0.40/0.10/1.60, gpt-4.1=2.00/0.50/8.00"
)
# JobPing's own scorer, researcher and wish reader run here, for nothing.
LOCAL_MODEL_PREFIX = "local-"
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    input: float
    cached_input: float
    output: float


FREE = Price(0.0, 0.0, 0.0)


def parse_prices(text: str) -> dict[str, Price]:
    """ "model=input/cached/output, ..." in USD per million tokens. Raises ValueError naming
    the entry it cannot read."""
    prices = {}
    for entry in text.split(","):
        if not entry.strip():
            continue
        model, _, numbers = entry.partition("=")
        try:
            values = [float(part) for part in numbers.split("/")]
        except ValueError:
            values = []
        if not model.strip() or len(values) != 3 or min(values) < 0:
            raise ValueError(
                f"{entry.strip()!r} is not model=input/cached/output (USD per 1M tokens)"
            )
        prices[model.strip().lower()] = Price(*values)
    return prices


def format_prices(prices: Mapping[str, Price]) -> str:
    """The text parse_prices reads back."""
    return ", ".join(
        f"{model}={p.input:g}/{p.cached_input:g}/{p.output:g}" for model, p in prices.items()
    )


def price_for(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The model's price: its own entry, else the longest entry it starts with (the API
    answers "gpt-4o-mini-2024-07-18" for "gpt-4o-mini"); None when nobody priced it."""
    name = model.lower()
    if name.startswith(LOCAL_MODEL_PREFIX):
        return FREE
    matches = [known for known in prices if name == known or name.startswith(known + "-")]
    return prices[max(matches, key=len)] if matches else None


def dollars(
    price: Price, input_tokens: int, cached_tokens: int, output_tokens: int, batch: bool
) -> float:
    uncached = max(0, input_tokens - cached_tokens)
    cost = (
        uncached * price.input + cached_tokens * price.cached_input + output_tokens * price.output
    ) / 1_000_000
    return cost * BATCH_DISCOUNT if batch else cost
