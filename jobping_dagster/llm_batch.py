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
from jobping_dagster.llm.ledger import record_usage
from jobping_dagster.llm.usage import UsageLog
from jobping_dagster.retries import describe_next_attempt, failure_reason, is_retryable

Unit = TypeVar("Unit")
Result = TypeVar("Result")


@dataclass(frozen=True)
class LLMBatch(Generic[Unit, Result]):
    """What one asset plugs into the shared loop."""

    # Plural, for messages and the failure's metadata: "companies", "pairs".
    noun: str
    # The LLM request for one unit (runs in a worker thread); it appends what each answered
    # call used to the log it is given.
    call: Callable[[Unit, UsageLog], Result]
    # The cost ledger's stage ("score", "research") and whom a unit's calls were for:
    # record_usage's keywords (user_id, job_id, company_key).
    stage: str
    about: Callable[[str, Unit], dict]
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
    per saved result. Adds each failure to `failures` (key -> reason). What each call used
    goes to the cost ledger in the transaction of its result or of its failure."""
    usage: dict[str, UsageLog] = {key: [] for key in units}
    work = ((key, (unit, usage[key])) for key, unit in units.items())
    for key, result, error in map_concurrently(_call(batch), work, max_concurrency):
        now = utcnow()
        if error is None:
            with engine.begin() as conn:
                metadata = batch.save(conn, key, units[key], result, now)
                _account(conn, batch, key, units[key], usage[key], now)
            yield dg.AssetMaterialization(
                asset_key=context.asset_key, partition=key, metadata=metadata
            )
            continue
        reason = failure_reason(error)
        with engine.begin() as conn:
            attempts, next_at = batch.record_failure(
                conn, key, error=reason, retryable=is_retryable(error), now=now
            )
            _account(conn, batch, key, units[key], usage[key], now)
        failures[key] = f"{reason} (attempt {attempts}; {describe_next_attempt(next_at, utcnow())})"
        context.log.warning(f"{key} failed: {failures[key]}")


def _call(batch: LLMBatch):
    def call(unit_and_usage):
        unit, usage = unit_and_usage
        return batch.call(unit, usage)

    return call


def _account(conn, batch: LLMBatch, key: str, unit, usage: UsageLog, now: datetime) -> None:
    record_usage(conn, batch.stage, usage, now, **batch.about(key, unit))


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
