"""When a failed LLM unit (one company's research, one pair's score) is tried again.

Attempts are spread over hours, one per run, instead of being spent within one run: an
OpenAI outage of a few minutes used to use up every attempt in about 80 s and park all the
work in flight. The sensors request a unit again once its `next_attempt_at` has passed; a
unit with no next attempt is parked until an operator re-drives it (`jobping redrive`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from jobping_dagster.llm.models import LLMError

# Waits after the 1st, 2nd, 3rd and 4th failed attempt: about 7 hours in all, which outlasts
# any provider outage we know of. The fifth failure parks the unit.
COOL_DOWNS = (
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
MAX_AUTOMATIC_ATTEMPTS = len(COOL_DOWNS) + 1


def is_retryable(error: BaseException) -> bool:
    """Waiting may help a rate limit, a 5xx or a refused connection; never a rejected request
    (an unknown company, a prompt the provider refuses)."""
    return error.retryable if isinstance(error, LLMError) else True


def failure_reason(error: BaseException) -> str:
    return error.reason if isinstance(error, LLMError) else f"{type(error).__name__}: {error}"


def next_attempt_at(attempts: int, retryable: bool, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None parks the unit."""
    if not retryable or attempts >= MAX_AUTOMATIC_ATTEMPTS:
        return None
    return now + COOL_DOWNS[max(attempts, 1) - 1]


def describe_next_attempt(next_at: datetime | None, now: datetime) -> str:
    if next_at is None:
        return "parked: `jobping redrive` tries it again"
    minutes = max(round((next_at - now).total_seconds() / 60), 1)
    return f"tried again in about {minutes} min"
