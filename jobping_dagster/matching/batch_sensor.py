"""batch_scoring_sensor: the non-urgent pairs through OpenAI's Batch API (half price).

Each tick it (a) submits the batch-eligible pairs waiting (matching/batch.py) as one Batch
API job: the same chat completions the instant scorer sends, one JSONL line per pair named
by its pair key; (b) polls the submitted batches: a completed one gets its pair partitions
and match runs that take their scores from the batch's output file (no new LLM call); a
failed or expired one sends its pairs to the instant path, its reason recorded."""

from __future__ import annotations

import json
from datetime import timedelta

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.ledger import users_over_budget
from jobping_dagster.llm.models import LLMError
from jobping_dagster.llm.resources import LLMResource
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.batch import (
    DONE_STATUSES,
    FAILED_STATUSES,
    OFF,
    batch_pairs,
    fail_batch,
    mark_completed,
    mark_submitted,
    pairs_to_batch,
    release_interrupted_submissions,
    send_to_instant_path,
    start_batch,
    submitted_batches,
)
from jobping_dagster.matching.pair_partitions import mark_fanned_out
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.sensors import PAIRS_PER_RUN, match_job
from jobping_dagster.matching.store import load_pair_inputs
from jobping_dagster.partition_status import active_run_keys, batched_run_requests
from jobping_dagster.run_limits import match_run_tags
from jobping_dagster.wording import plural

# One batch per tick at most this big (OpenAI accepts 50,000 requests and 200 MB a file).
MAX_PAIRS_PER_BATCH = 5000
# Below this many waiting pairs, a tick waits for more (unless the oldest waits long): fewer,
# larger files. 1 keeps tests and `make run` simple; the latency is hours anyway.
MIN_PAIRS_PER_BATCH = 1
# A batch recorded but still not submitted after this long was cut off by a lost tick.
SUBMISSION_TIMEOUT = timedelta(minutes=10)


def build_batch_scoring_sensor(*, interval_seconds: int) -> dg.SensorDefinition:
    return dg.sensor(
        job=match_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(batch_scoring_sensor)


def batch_run_config(batch_id: int) -> dict:
    """The match run config that takes the scores from batch `batch_id`."""
    return {"ops": {"user_job_matches": {"config": {"batch_id": batch_id}}}}


def _collect(conn, batch_id: int, status, now) -> tuple[list[str], list[dg.RunRequest]]:
    """A completed batch: its pairs' keys and the match runs (PAIRS_PER_RUN pairs each) that
    take their scores from it, each pair marked with its run's key."""
    pairs = batch_pairs(conn, batch_id)
    keys = [pair_key(*pair) for pair in pairs]
    requests = [
        request.with_replaced_attrs(run_config=batch_run_config(batch_id))
        for request in batched_run_requests(
            keys, PAIRS_PER_RUN, f"match-batch-{batch_id}", match_run_tags
        )
    ]
    starts = range(0, len(pairs), PAIRS_PER_RUN)
    for start, request in zip(starts, requests, strict=True):
        mark_fanned_out(conn, pairs[start : start + PAIRS_PER_RUN], request.run_key, now)
    mark_completed(conn, batch_id, status, requests[0].run_key if requests else "", now)
    return keys, requests


def batch_scoring_sensor(
    context: dg.SensorEvaluationContext,
    app_db: AppDatabase,
    llm: LLMResource,
    prefilter: PrefilterResource,
):
    """Submits the waiting non-urgent pairs as one Batch API job and polls the submitted
    ones; a completed batch's pairs get partitions and runs that read its results."""
    mode = prefilter.batch_api
    if mode == OFF or not llm.supports_batch:
        return dg.SkipReason(f"the batch path is off (JOBPING_BATCH_API={mode})")
    client = llm.batch_client()
    now = utcnow()
    engine = app_db.engine()
    with engine.begin() as conn:
        interrupted = release_interrupted_submissions(conn, now - SUBMISSION_TIMEOUT, now)
    if interrupted:
        context.log.warning(f"{plural(interrupted, 'batch')} left unsubmitted: pairs released")
    submitted = _submit(context, engine, client, mode, now, prefilter)
    runs: list[dg.RunRequest] = []
    new_keys: list[str] = []
    failed = completed = 0
    with engine.connect() as conn:
        open_batches = submitted_batches(conn)
    # Backpressure, as for the fan-out: a completed batch waits (at the provider) while
    # max_active_match_runs match runs are queued or running.
    busy = active_run_keys(context.instance, match_job.name)
    room = max(prefilter.max_active_match_runs - len(busy), 0) * PAIRS_PER_RUN
    for row in open_batches:
        if room <= 0:
            context.log.info(f"{plural(len(busy), 'match run')} active: batches wait")
            break
        try:
            status = client.batch_status(row.provider_batch_id)
        except LLMError as error:
            context.log.warning(f"batch {row.id}: polling failed ({error.reason}); next tick")
            continue
        with engine.begin() as conn:
            if status.status in FAILED_STATUSES:
                sent = fail_batch(conn, row.id, f"batch {status.status}", now)
                context.log.warning(
                    f"batch {row.id} {status.status}: {plural(sent, 'pair')} go the instant way"
                )
                failed += 1
            elif status.status in DONE_STATUSES:
                keys, requests = _collect(conn, row.id, status, now)
                new_keys += keys
                runs += requests
                room -= len(keys)
                completed += 1
    cursor = json.dumps(
        {"tick": now.isoformat(), "submitted": submitted, "completed": completed, "failed": failed}
    )
    if not runs:
        return dg.SensorResult(
            skip_reason=f"{plural(submitted, 'pair')} submitted, "
            f"{plural(len(open_batches) - completed - failed, 'batch')} in progress",
            cursor=cursor,
        )
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[pair_partitions_def.build_add_request(new_keys)],
        cursor=cursor,
    )


def _submit(context, engine, client, mode: str, now, prefilter: PrefilterResource) -> int:
    """Submits up to MAX_PAIRS_PER_BATCH waiting pairs as one batch; how many."""
    with engine.begin() as conn:
        held = users_over_budget(conn, now, prefilter.prices())
        pairs = pairs_to_batch(conn, mode, now, MAX_PAIRS_PER_BATCH, held)
        if len(pairs) < MIN_PAIRS_PER_BATCH:
            return 0
        inputs, unusable = load_pair_inputs(conn, [pair_key(*pair) for pair in pairs])
        # A pair that cannot be scored (user gone, no prompt) fails the instant way, with its
        # reason recorded there.
        unusable_pairs = [(u, j) for u, j in pairs if pair_key(u, j) in unusable]
        send_to_instant_path(conn, unusable_pairs)
        usable = [(p.user_id, p.job_id) for p in inputs.values()]
        if not usable:
            return 0
        lines = [client.score_request(p.key, p.job, p.prompt, p.company) for p in inputs.values()]
        batch_id = start_batch(conn, client.model_name, usable, now)
    try:
        provider_id = client.submit_batch(lines)
    except LLMError as error:
        # The pairs stay eligible: the next tick submits them again.
        with engine.begin() as conn:
            fail_batch(conn, batch_id, f"submission failed: {error.reason}", now, run_key=None)
        context.log.warning(f"batch submission failed ({error.reason}); next tick")
        return 0
    with engine.begin() as conn:
        mark_submitted(conn, batch_id, provider_id)
    context.log.info(f"batch {batch_id}: {plural(len(usable), 'pair')} submitted ({provider_id})")
    return len(usable)
