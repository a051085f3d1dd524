"""Which already-added partitions still need a run: neither materialized, nor planned in a
queued or running run. Such partitions were stranded by a lost tick or a killed run."""

from __future__ import annotations

import dagster as dg


def stranded_partitions(
    instance: dg.DagsterInstance,
    asset_key: dg.AssetKey,
    partitions_def: dg.DynamicPartitionsDefinition,
    keys: list[str],
) -> list[str]:
    if not keys:
        return []
    status = instance.get_status_by_partition(asset_key, keys, partitions_def)
    busy = (dg.AssetPartitionStatus.IN_PROGRESS, dg.AssetPartitionStatus.MATERIALIZED)
    return [key for key in keys if (status or {}).get(key) not in busy]


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
                    "dagster/asset_partition_range_start": batch[0],
                    "dagster/asset_partition_range_end": batch[-1],
                    "jobping/batch_size": str(len(batch)),
                },
            )
        )
    return requests
