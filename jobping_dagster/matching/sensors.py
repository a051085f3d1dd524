"""Fan-out: new jobs with fresh company research x users with a prompt -> pair partitions
and batched match runs. No AI here."""

import json

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.matching.assets import pair_partitions_def, user_job_matches
from jobping_dagster.matching.candidates import (
    candidate_pairs,
    users_without_prompt,
)
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.partition_status import batched_run_requests, stranded_partitions
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


@dg.sensor(
    job=match_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def match_fan_out_sensor(context: dg.SensorEvaluationContext, app_db: AppDatabase):
    """Adds a `u<user>-j<job>` partition for every recent job whose company research is
    fresh, for every active user with a prompt, and requests runs of PAIRS_PER_RUN pairs.
    Pairs whose partition exists but never ran (a lost tick, a killed run) get one
    single-pair run."""
    now = utcnow()
    limit = FIRST_TICK_MAX_PAIRS if context.cursor is None else MAX_PAIRS_PER_TICK
    engine = app_db.engine()
    with engine.connect() as conn:
        pairs = candidate_pairs(conn, now)
        skipped_users = users_without_prompt(conn)
    existing = set(context.instance.get_dynamic_partitions(pair_partitions_def.name))
    keyed = {pair_key(user_id, job_id): job_id for user_id, job_id in pairs}
    new_keys = [key for key in keyed if key not in existing][:limit]
    known = [key for key in keyed if key in existing][:limit]
    retry = stranded_partitions(
        context.instance, match_job.name, user_job_matches.key, pair_partitions_def, known
    )

    requests = batched_run_requests(new_keys, PAIRS_PER_RUN, "match")
    requests += [dg.RunRequest(partition_key=key, run_key=f"match-retry:{key}") for key in retry]
    if skipped_users:
        context.log.info(f"{skipped_users} active users have no prompt: skipped")
    cursor = json.dumps(
        {
            "tick": now.isoformat(),
            "new_pairs": len(new_keys),
            "waiting": len(keyed) - len(new_keys) - len(known),
        }
    )
    if not requests:
        return dg.SensorResult(
            skip_reason=f"no new pairs ({len(known)} in progress)", cursor=cursor
        )
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=(
            [pair_partitions_def.build_add_request(new_keys)] if new_keys else []
        ),
        cursor=cursor,
    )
