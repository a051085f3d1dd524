"""Fan-out: the pairs the cascade chose -> pair partitions and batched match runs; retention
of old pair partitions. Everything is read from the app database and the active runs, never
by listing the partitions, so a tick stays cheap as history grows. No AI here."""

import json
from dataclasses import dataclass, field
from datetime import timedelta

import dagster as dg

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.ledger import users_over_budget
from jobping_dagster.matching.assets import pair_partitions_def, user_job_matches
from jobping_dagster.matching.candidates import users_without_prompt
from jobping_dagster.matching.pair_partitions import (
    expired_partitions,
    mark_fanned_out,
    mark_partitions_deleted,
    pairs_to_fan_out,
    pairs_to_retry,
    send_back_to_fan_out,
    waiting_pairs,
)
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.partition_status import (
    active_run_keys,
    batched_run_requests,
    ended_run_keys,
)
from jobping_dagster.run_limits import match_run_tags
from jobping_dagster.wording import plural

PAIRS = pair_partitions_def.name
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
# Pairs to run again are sent back to the fan-out: their partition is deleted (about 11 ms
# each, hence the bound) and added again from a later tick, so they go in batched runs too.
MAX_RETRIES_PER_TICK = 300
# Dagster deletes a dynamic partition per call (about 11 ms each on PostgreSQL here, a new
# connection each): 200 a tick is 2 s of daemon time, and 500,000 a day at 30 s ticks.
MAX_DELETES_PER_TICK = 200


def build_match_fan_out_sensor(*, interval_seconds: int) -> dg.SensorDefinition:
    """The sensor, evaluated every `interval_seconds` (JOBPING_SENSOR_INTERVAL_SECONDS)."""
    return dg.sensor(
        job=match_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )(match_fan_out_sensor)


def match_fan_out_sensor(
    context: dg.SensorEvaluationContext, app_db: AppDatabase, prefilter: PrefilterResource
):
    """Adds a `u<user>-j<job>` partition for each pair the cascade chose (`match_candidates`)
    whose company research is fresh, and requests runs of PAIRS_PER_RUN pairs. Requests no
    new run while `max_active_match_runs` match runs are queued or running (backpressure).
    Sends back to the fan-out, to run again in batches, the pairs whose cool-down after a
    failure has passed and those a killed run or a lost tick stranded. Deletes pair
    partitions older than the retention age (their rows stay in the app database)."""
    now = utcnow()
    instance = context.instance
    busy = active_run_keys(instance, match_job.name)
    ended, awaiting_retry = ended_run_keys(instance, match_job.name, since=now - STRANDED_AFTER)
    room = max(prefilter.max_active_match_runs - len(busy), 0)
    limit = FIRST_TICK_MAX_PAIRS if context.cursor is None else MAX_PAIRS_PER_TICK
    with app_db.engine().begin() as conn:
        held = users_over_budget(conn, now, prefilter.prices())
        tick = _fan_out(
            conn, instance, now, min(limit, room * PAIRS_PER_RUN), held, prefilter.batch_api
        )
        # After this tick's fan-out: a pair sent back now is added again from the next tick.
        tick.sent_back = pairs_to_retry(
            conn,
            now=now,
            stranded_before=now - STRANDED_AFTER,
            busy_run_keys=busy | awaiting_retry,
            ended_run_keys=ended,
            limit=MAX_RETRIES_PER_TICK,
        )
        send_back_to_fan_out(conn, tick.sent_back)
        retention = timedelta(days=prefilter.pair_retention_days)
        tick.expired = expired_partitions(conn, now - retention, MAX_DELETES_PER_TICK)
        mark_partitions_deleted(conn, tick.expired, now)
        waiting = waiting_pairs(conn)
        skipped_users = users_without_prompt(conn)

    _say_who_waits(context, skipped_users, len(held), 0 if room else len(busy))
    cursor = json.dumps(
        {
            "tick": now.isoformat(),
            "new_pairs": len(tick.fresh),
            "retried": len(tick.again),
            "sent_back": len(tick.sent_back),
            "deleted": len(tick.expired),
            "waiting": waiting,
            "active_runs": len(busy),
            "users_over_budget": len(held),
        }
    )
    partition_requests = tick.partition_requests()
    if not tick.runs and not partition_requests:
        return dg.SensorResult(
            skip_reason=f"no new pairs ({waiting} waiting, {plural(len(busy), 'run')} active)",
            cursor=cursor,
        )
    return dg.SensorResult(
        run_requests=tick.runs, dynamic_partitions_requests=partition_requests, cursor=cursor
    )


def _say_who_waits(context, without_prompt: int, over_budget: int, busy_runs: int) -> None:
    if without_prompt:
        context.log.info(f"{plural(without_prompt, 'active user')} without a prompt: skipped")
    if over_budget:
        context.log.info(
            f"{plural(over_budget, 'user')} past their monthly LLM budget: their pairs wait "
            "for an on-demand pull"
        )
    if busy_runs:
        context.log.info(f"{plural(busy_runs, 'match run')} active: no new runs (backpressure)")


@dataclass
class _Tick:
    """What one fan-out tick does to the pair partitions and which runs it requests."""

    fresh: list[tuple[int, int]]  # chosen pairs added for the first time
    again: list[tuple[int, int]]  # pairs sent back earlier, added again now
    lingering: list[tuple[int, int]]  # sent back, but their old partition is still there
    runs: list[dg.RunRequest]
    sent_back: list[tuple[int, int]] = field(default_factory=list)
    expired: list[tuple[int, int]] = field(default_factory=list)

    def partition_requests(self) -> list:
        new_keys = [pair_key(*pair) for pair in self.fresh + self.again]
        to_delete = [pair_key(*pair) for pair in self.sent_back + self.expired + self.lingering]
        requests = []
        if new_keys:
            requests.append(pair_partitions_def.build_add_request(new_keys))
        if to_delete:
            requests.append(pair_partitions_def.build_delete_request(to_delete))
        return requests


def _fan_out(
    conn, instance: dg.DagsterInstance, now, max_pairs: int, held, batch_mode: str = "off"
) -> _Tick:
    """Up to `max_pairs` pairs ready to score (fresh research), in batched runs; pairs sent
    back run in batches of their own; pairs of `held` users wait."""
    pairs = pairs_to_fan_out(conn, now, max_pairs, held, batch_mode) if max_pairs else []
    # A pair sent back whose old partition is still there (the tick that deleted it was
    # lost) waits for its deletion: added now, it would keep its old place.
    lingering = [
        (p.user_id, p.job_id)
        for p in pairs
        if p.retry and instance.has_dynamic_partition(PAIRS, pair_key(p.user_id, p.job_id))
    ]
    fresh = [(p.user_id, p.job_id) for p in pairs if not p.retry]
    again = [
        (p.user_id, p.job_id) for p in pairs if p.retry and (p.user_id, p.job_id) not in lingering
    ]
    runs = _batched_runs(conn, fresh, f"match:{now:%Y%m%dT%H%M%S}", now)
    runs += _batched_runs(conn, again, f"match-retry:{now:%Y%m%dT%H%M%S}", now)
    return _Tick(fresh=fresh, again=again, lingering=lingering, runs=runs)


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
