"""One run of LLM work over many partitions: companies to research, pairs to score.

The requests go out side by side under the provider's concurrency limit; each result is
written in its own transaction as soon as it arrives, so a retried run only redoes what is
missing. A failed unit is recorded with its cool-down (retries.py) and its sensor requests it
again later; the run itself fails at the end, naming every unit that failed, and is never
retried in-run, so a short outage does not use up attempts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.db.engine import utcnow
from jobping_dagster.retries import describe_next_attempt, failure_reason, is_retryable

Unit = TypeVar("Unit")
Result = TypeVar("Result")


@dataclass(frozen=True)
class LLMBatch(Generic[Unit, Result]):
    """What one asset plugs into the shared loop."""

    # Plural, for messages and the failure's metadata: "companies", "pairs".
    noun: str
    # The LLM request for one unit (runs in a worker thread).
    call: Callable[[Unit], Result]
    # Writes one result inside its transaction; returns its materialization's metadata.
    save: Callable[[sa.Connection, str, Unit, Result, datetime], dict]
    # Counts a failed attempt and schedules the next, called as
    # record_failure(conn, key, error=..., retryable=..., now=...) -> (attempts, next or None).
    record_failure: Callable[..., tuple[int, datetime | None]]


def run_llm_batch(
    context: dg.AssetExecutionContext,
    engine: sa.Engine,
    batch: LLMBatch[Unit, Result],
    units: dict[str, Unit],
    max_concurrency: int,
    failures: dict[str, str],
) -> Iterator[dg.AssetMaterialization]:
    """Calls the LLM for every unit (partition key -> input) and yields one materialization
    per saved result. Adds each failure to `failures` (key -> reason)."""
    for key, result, error in map_concurrently(batch.call, units.items(), max_concurrency):
        if error is None:
            with engine.begin() as conn:
                metadata = batch.save(conn, key, units[key], result, utcnow())
            yield dg.AssetMaterialization(
                asset_key=context.asset_key, partition=key, metadata=metadata
            )
            continue
        reason = failure_reason(error)
        with engine.begin() as conn:
            attempts, next_at = batch.record_failure(
                conn, key, error=reason, retryable=is_retryable(error), now=utcnow()
            )
        failures[key] = f"{reason} (attempt {attempts}; {describe_next_attempt(next_at, utcnow())})"
        context.log.warning(f"{key} failed: {failures[key]}")


def fail_if_any(failures: dict[str, str], total: int, noun: str) -> None:
    """Fails the run when a unit failed: Dagster shows which partitions did not materialize,
    and the sensor, not an in-run retry, tries them again after their cool-down."""
    if failures:
        raise dg.Failure(
            description=f"{len(failures)} of {total} {noun} failed: "
            + "; ".join(f"{key}: {reason}" for key, reason in sorted(failures.items())[:10]),
            metadata={f"failed_{noun}": failures},
            allow_retries=False,
        )
