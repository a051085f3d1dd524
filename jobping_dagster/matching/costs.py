"""What an LLM call costs, for the figures the selection and the benchmarks print.

Token counts were measured with the project's own scoring prompt (README, "Matching only
what can match"); prices are OpenAI's list prices for gpt-4o-mini in US dollars per million
tokens. The Batch API charges half.
"""

SCORING_INPUT_TOKENS = 1400
SCORING_OUTPUT_TOKENS = 150
PRICE_PER_MILLION = {"gpt-4o-mini": (0.15, 0.60)}
DEFAULT_MODEL = "gpt-4o-mini"


def scoring_cost(calls: int, model: str = DEFAULT_MODEL) -> dict[str, float]:
    price_in, price_out = PRICE_PER_MILLION.get(model, PRICE_PER_MILLION[DEFAULT_MODEL])
    tokens_in = calls * SCORING_INPUT_TOKENS
    tokens_out = calls * SCORING_OUTPUT_TOKENS
    dollars = (tokens_in * price_in + tokens_out * price_out) / 1_000_000
    return {
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "dollars": round(dollars, 4),
        "dollars_batch_api": round(dollars / 2, 4),
    }
