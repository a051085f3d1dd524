"""One pass of the whole flow, in this process, through the same assets and sensors that
the daemon runs in production: today's scrape -> company research -> fan-out -> matches ->
notifications. Used by `jobping run-once` (`make run`) and the end-to-end tests."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from jobping_dagster.account.assets import ACCOUNT_JOB
from jobping_dagster.partition_status import ACTIVE_RUN_STATUSES
from jobping_dagster.wording import plural

# The sensors of the definitions, in the order the work flows through them.
SENSOR_NAMES = (
    "candidate_selection_sensor",
    "company_research_sensor",
    "match_fan_out_sensor",
    "batch_scoring_sensor",  # only defined with JOBPING_BATCH_API on
    "notification_sensor",
)
# Guards against a sensor that keeps asking; a healthy pass needs a handful of ticks.
MAX_TICKS_PER_SENSOR = 50
# Runs executed here carry the process that runs them, so a later pass can tell that a run
# left STARTED belongs to a process that is gone (killed) and fail it.
TRIGGER_TAG, PID_TAG, HOST_TAG = "jobping/trigger", "jobping/pid", "jobping/host"

log = logging.getLogger("jobping.run_once")


@dataclass
class PassReport:
    runs: Counter[str] = field(default_factory=Counter)  # job name -> runs executed
    seconds: Counter[str] = field(default_factory=Counter)  # job name -> wall time of its runs
    failed_runs: list[str] = field(default_factory=list)  # "job (partition): reason"


def run_once(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    day: date,
    on_step: Callable[[str], None] = log.info,
    log_level: str = "INFO",
) -> PassReport:
    report = PassReport()
    dead = fail_runs_of_dead_passes(instance)
    if dead:
        on_step(
            f"{plural(dead, 'run')} of an earlier pass that was killed marked failed; redone below"
        )
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    scrape = dg.RunRequest(partition_key=day.isoformat())
    execute_run(defs, instance, "scrape_job", scrape, report, run_config)
    on_step(f"scraped {day}")
    defined = {sensor.name for sensor in defs.sensors or []}
    names = [name for name in SENSOR_NAMES if name in defined]
    for sensor in map(defs.resolve_sensor_def, names):
        ticks = _drive_sensor(defs, instance, sensor, report, run_config)
        on_step(f"{sensor.name}: {plural(ticks, 'tick')}, runs so far {dict(report.runs)}")
    # The day's account, now that the pass is done (`jobping stats` prints it).
    execute_run(defs, instance, ACCOUNT_JOB, scrape, report, run_config)
    return report


def _drive_sensor(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    sensor: dg.SensorDefinition,
    report: PassReport,
    run_config: dict,
) -> int:
    """Evaluates the sensor until it asks for nothing new, executing what it asks for.
    Like the daemon, a run key is executed at most once."""
    cursor, seen_run_keys = None, set()
    for tick in range(1, MAX_TICKS_PER_SENSOR + 1):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=defs.resources, definitions=defs
        )
        # As the daemon evaluates it: results are checked (a partition both added and
        # deleted in one tick is refused) and run requests resolved.
        result = sensor.evaluate_tick(context)
        apply_partition_requests(instance, result.dynamic_partitions_requests)
        cursor = result.cursor
        fresh = [r for r in result.run_requests or [] if r.run_key not in seen_run_keys]
        # A tick that only deleted partitions (work sent back to run again) is followed by
        # the one that adds them again.
        if not fresh and not result.dynamic_partitions_requests:
            return tick
        for request in fresh:
            seen_run_keys.add(request.run_key)
            execute_run(defs, instance, sensor.job_name, request, report, run_config)
    return MAX_TICKS_PER_SENSOR


def apply_partition_requests(instance: dg.DagsterInstance, requests) -> None:
    """What the daemon does with a tick's dynamic partition requests, in order."""
    for request in requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        elif isinstance(request, dg.DeleteDynamicPartitionsRequest):
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def fail_runs_of_dead_passes(instance: dg.DagsterInstance) -> int:
    """Marks failed the runs an earlier `run-once` on this host left unfinished when it was
    killed (its process is gone): their units then count as stranded, and this pass's
    sensors run them again instead of waiting on them for ever."""
    host = socket.gethostname()
    runs = instance.get_runs(
        dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES, tags={TRIGGER_TAG: "run-once", HOST_TAG: host})
    )
    failed = 0
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and pid != os.getpid() and not _alive(pid):
            instance.report_run_failed(
                run, f"the run-once process {pid} that ran this run is gone (killed?)"
            )
            failed += 1
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def execute_run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job_name: str,
    request: dg.RunRequest,
    report: PassReport,
    run_config: dict,
) -> None:
    started = time.perf_counter()
    job = defs.resolve_job_def(job_name)
    tags = {
        **(request.tags or {}),
        TRIGGER_TAG: "run-once",
        PID_TAG: str(os.getpid()),
        HOST_TAG: socket.gethostname(),
    }
    if request.run_key:
        tags["dagster/run_key"] = request.run_key
    result = job.execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags=tags,
        # The request's own config (e.g. a match run that takes a batch's scores) too.
        run_config={**run_config, **(request.run_config or {})},
        raise_on_error=False,
    )
    report.runs[job_name] += 1
    report.seconds[job_name] += time.perf_counter() - started
    if not result.success:
        where = request.partition_key or tags.get("dagster/asset_partition_range_start", "")
        failure = next(
            (
                e.event_specific_data.error.message.strip()
                for e in result.all_events
                if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
            ),
            "run failed",
        )
        report.failed_runs.append(f"{job_name} ({where}): {failure.splitlines()[0][:300]}")
