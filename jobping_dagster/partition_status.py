"""Which already-added partitions still need a run: neither materialized, nor planned in a
queued or running run. Such partitions were stranded by a lost tick or a killed run."""

from __future__ import annotations

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


def stranded_partitions(
    instance: dg.DagsterInstance,
    job_name: str,
    asset_key: dg.AssetKey,
    partitions_def: dg.DynamicPartitionsDefinition,
    keys: list[str],
) -> list[str]:
    if not keys:
        return []
    status = instance.get_status_by_partition(asset_key, keys, partitions_def) or {}
    busy = partitions_in_active_runs(instance, job_name, partitions_def)
    return [
        key
        for key in keys
        if key not in busy and status.get(key) != dg.AssetPartitionStatus.MATERIALIZED
    ]


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
    keys: list[str], batch_size: int, run_key_prefix: str
) -> list[dg.RunRequest]:
    """One run per batch of consecutive new keys. Keys added in one request are stored in
    order, so a batch is the partition range from its first to its last key."""
    requests = []
    for start in range(0, len(keys), batch_size):
        batch = keys[start : start + batch_size]
        if len(batch) == 1:
            requests.append(
                dg.RunRequest(partition_key=batch[0], run_key=f"{run_key_prefix}:{batch[0]}")
            )
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{run_key_prefix}:{batch[0]}:{batch[-1]}",
                tags={
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
