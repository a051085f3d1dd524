"""What the runs of a job say about its partitions: which are planned in a queued or running
run, which runs ended, and how to request batched runs over dynamic partitions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
ACTIVE_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
ENDED_RUN_STATUSES = [
    dg.DagsterRunStatus.SUCCESS,
    dg.DagsterRunStatus.FAILURE,
    dg.DagsterRunStatus.CANCELED,
]
# Set by Dagster on a failed run that its run-retry daemon will launch again, and then the
# id of the retry it launched.
WILL_RETRY_TAG = "dagster/will_retry"
RETRY_RUN_ID_TAG = "dagster/auto_retry_run_id"


def partitions_in_active_runs(
    instance: dg.DagsterInstance, job_name: str, partitions_def: dg.DynamicPartitionsDefinition
) -> set[str]:
    """Partitions of the job's queued and running runs, read from the runs themselves: the
    asset's partition status does not count a queued partition-range run as in progress."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=ACTIVE_RUN_STATUSES))
    busy: set[str] = set()
    ordered: list[str] | None = None
    for run in runs:
        if run.tags.get("dagster/partition"):
            busy.add(run.tags["dagster/partition"])
        start, end = run.tags.get(RANGE_START), run.tags.get(RANGE_END)
        if start and end:
            ordered = ordered or list(instance.get_dynamic_partitions(partitions_def.name))
            if start in ordered and end in ordered:
                busy.update(ordered[ordered.index(start) : ordered.index(end) + 1])
    return busy


def batched_run_requests(
    keys: list[str],
    batch_size: int,
    run_key_prefix: str,
    tags_for_size: Callable[[int], dict[str, str]] = lambda size: {},
) -> list[dg.RunRequest]:
    """One run per batch of consecutive new keys. Keys added in one request are stored in
    order, so a batch is the partition range from its first to its last key.
    `tags_for_size` gives each run's extra tags from its batch size."""
    requests = []
    for start in range(0, len(keys), batch_size):
        batch = keys[start : start + batch_size]
        tags = tags_for_size(len(batch))
        if len(batch) == 1:
            requests.append(
                dg.RunRequest(
                    partition_key=batch[0], run_key=f"{run_key_prefix}:{batch[0]}", tags=tags
                )
            )
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{run_key_prefix}:{batch[0]}:{batch[-1]}",
                tags={
                    **tags,
                    RANGE_START: batch[0],
                    RANGE_END: batch[-1],
                    "jobping/batch_size": str(len(batch)),
                },
            )
        )
    return requests


def active_run_keys(instance: dg.DagsterInstance, job_name: str) -> set[str]:
    """Run keys of the job's queued and running runs (one query, whatever the history)."""
    runs = instance.get_runs(dg.RunsFilter(job_name=job_name, statuses=ACTIVE_RUN_STATUSES))
    return {run.tags.get("dagster/run_key", f"run:{run.run_id}") for run in runs}


def ended_run_keys(
    instance: dg.DagsterInstance, job_name: str, since: datetime
) -> tuple[set[str], set[str]]:
    """Run keys of the job's runs that ended since `since`: those that ended for good, and
    those Dagster's run retries will launch again (a retry keeps its parent's run key, so
    their units are still spoken for)."""
    runs = instance.get_runs(
        dg.RunsFilter(job_name=job_name, statuses=ENDED_RUN_STATUSES, updated_after=since)
    )
    ended, awaiting_retry = set(), set()
    for run in runs:
        key = run.tags.get("dagster/run_key")
        if not key:
            continue
        if run.tags.get(WILL_RETRY_TAG) != "true":
            ended.add(key)
        elif RETRY_RUN_ID_TAG not in run.tags:
            awaiting_retry.add(key)
        # else: its retry was launched; that run (active or ended) speaks for the key.
    return ended - awaiting_retry, awaiting_retry
