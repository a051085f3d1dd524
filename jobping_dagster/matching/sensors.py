"""Fan-out: the pairs the cascade chose -> pair partitions and batched match runs; retention
of old pair partitions. Everything is read from the app database and the active runs, never
by listing the partitions, so a tick stays cheap as history grows. No AI here."""

import json
from datetime import timedelta

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.matching.assets import pair_partitions_def, user_job_matches
from jobping_dagster.matching.candidates import (
    expired_partitions,
    mark_fanned_out,
    mark_partitions_deleted,
    pairs_to_fan_out,
    pairs_to_retry,
    users_without_prompt,
    waiting_pairs,
)
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.partition_status import (
    active_run_keys,
    batched_run_requests,
    ended_run_keys,
    moved_to_end,
)
from jobping_dagster.run_limits import match_run_tags
from jobping_dagster.settings import sensor_interval_seconds

match_job = dg.define_asset_job(
    "match_job", selection=dg.AssetSelection.assets(user_job_matches).without_checks()
)

# Turning the sensor on over a backlog must not launch a storm of runs; later ticks take
# more, and whatever is left waits for the next tick (newest jobs first).
FIRST_TICK_MAX_PAIRS = 200
MAX_PAIRS_PER_TICK = 2000
# A launched run costs about 4 s of CPU before its first pair: batches amortize it.
PAIRS_PER_RUN = 100
# A pair whose partition exists but that is neither scored, failed nor in an active run
# this long after it was fanned out was stranded by a lost tick. A pair whose run ended
# without it (killed, canceled) is stranded as soon as that run ends.
STRANDED_AFTER = timedelta(minutes=10)
# Retried pairs are moved to the end of the partitions, so they go in batched runs too;
# each move is a delete (about 11 ms), hence the bound.
MAX_RETRIES_PER_TICK = 300
# Dagster deletes a dynamic partition per call (about 11 ms each on PostgreSQL here, a new
# connection each): 200 a tick is 2 s of daemon time, and 500,000 a day at 30 s ticks.
MAX_DELETES_PER_TICK = 200


@dg.sensor(
    job=match_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def match_fan_out_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, prefilter: PrefilterResource
):
    """Adds a `u<user>-j<job>` partition for each pair the cascade chose (`match_candidates`)
    whose company research is fresh, and requests runs of PAIRS_PER_RUN pairs. Requests no
    new run while `max_active_match_runs` match runs are queued or running (backpressure).
    Runs again, in batches, the pairs whose cool-down after a failure has passed and those a
    killed run or a lost tick stranded. Deletes pair partitions older than the retention age
    (their rows stay in the app database)."""
    now = utcnow()
    busy = active_run_keys(context.instance, match_job.name)
    ended, awaiting_retry = ended_run_keys(
        context.instance, match_job.name, since=now - STRANDED_AFTER
    )
    room = max(prefilter.max_active_match_runs - len(busy), 0)
    limit = FIRST_TICK_MAX_PAIRS if context.cursor is None else MAX_PAIRS_PER_TICK
    requests: list[dg.RunRequest] = []
    new_keys: list[str] = []
    retry_keys: list[str] = []
    with app_db.engine().begin() as conn:
        pairs = pairs_to_fan_out(conn, now, min(limit, room * PAIRS_PER_RUN)) if room else []
        requests += _batched_runs(conn, pairs, "match", now)
        new_keys += [pair_key(*pair) for pair in pairs]
        retry_room = min(MAX_RETRIES_PER_TICK, (room - len(requests)) * PAIRS_PER_RUN)
        retried = (
            pairs_to_retry(
                conn,
                now=now,
                stranded_before=now - STRANDED_AFTER,
                busy_run_keys=busy | awaiting_retry,
                ended_run_keys=ended,
                limit=retry_room,
            )
            if retry_room > 0
            else []
        )
        requests += _batched_runs(conn, retried, f"match-retry:{now:%Y%m%dT%H%M%S}", now)
        retry_keys += [pair_key(*pair) for pair in retried]
        retention = timedelta(days=prefilter.pair_retention_days)
        expired = expired_partitions(conn, now - retention, MAX_DELETES_PER_TICK)
        mark_partitions_deleted(conn, expired, now)
        waiting = waiting_pairs(conn)
        skipped_users = users_without_prompt(conn)

    if skipped_users:
        context.log.info(f"{skipped_users} active users have no prompt: skipped")
    if not room:
        context.log.info(f"{len(busy)} match runs queued or running: no new runs (backpressure)")
    cursor = json.dumps(
        {
            "tick": now.isoformat(),
            "new_pairs": len(new_keys),
            "retried": len(retry_keys),
            "deleted": len(expired),
            "waiting": waiting,
            "active_runs": len(busy),
        }
    )
    # Retried keys are deleted and added again: after the new keys, in order, so each batch
    # is one partition range (and a lost tick may never have added them at all).
    partition_requests = moved_to_end(pair_partitions_def, retry_keys)
    if new_keys or retry_keys:
        partition_requests.append(pair_partitions_def.build_add_request(new_keys + retry_keys))
    if expired:
        partition_requests.append(
            pair_partitions_def.build_delete_request([pair_key(*pair) for pair in expired])
        )
    if not requests and not partition_requests:
        return dg.SensorResult(
            skip_reason=f"no new pairs ({waiting} waiting, {len(busy)} runs active)",
            cursor=cursor,
        )
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=partition_requests, cursor=cursor
    )


def _batched_runs(conn, pairs: list[tuple[int, int]], prefix: str, now) -> list[dg.RunRequest]:
    """Runs of PAIRS_PER_RUN consecutive pairs, each pair marked with its run's key."""
    requests = []
    for start in range(0, len(pairs), PAIRS_PER_RUN):
        batch = pairs[start : start + PAIRS_PER_RUN]
        [request] = batched_run_requests(
            [pair_key(*pair) for pair in batch], PAIRS_PER_RUN, prefix, match_run_tags
        )
        mark_fanned_out(conn, batch, request.run_key, now)
        requests.append(request)
    return requests
