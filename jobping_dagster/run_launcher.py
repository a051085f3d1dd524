"""Dagster's default run launcher, plus a health check of each run's worker.

The default launcher starts each run as a child process of the code server, and cannot tell
run monitoring whether that worker is alive: a run whose code server died with it stays
STARTED until `max_runtime` (an hour by default), and its units wait that long. This
launcher asks the code server that started the run (its address is in the run's tags)
whether it is still running it. When the code server answers and does not know the run,
the worker is gone: run monitoring marks the run failed and run retries launch it again.
When the code server cannot be reached, monitoring waits: a code server being restarted
says nothing about the worker yet.

These are Dagster's internal launcher and gRPC APIs (`dagster._core`, `dagster._grpc`): the
health-check hook has no public equivalent for this launcher. Pinned in constraints.txt."""

from __future__ import annotations

import json
import time

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value

# A run just handed to the code server may not be in its list for a moment.
START_GRACE_SECONDS = 30
QUERY_TIMEOUT_SECONDS = 10


class HealthCheckedRunLauncher(dg.DefaultRunLauncher):
    """`DefaultRunLauncher` whose runs run monitoring can check (dagster.yaml, run_launcher)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        info = run.tags.get(GRPC_INFO_TAG)
        if not info:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no code server recorded")
        record = self._instance.get_run_record_by_id(run.run_id)
        started = record.start_time if record else None
        if started is None or time.time() - started < START_GRACE_SECONDS:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "just started")
        address = json.loads(info)
        try:
            client = DagsterGrpcClient(
                host=address.get("host"),
                port=address.get("port"),
                socket=address.get("socket"),
                use_ssl=bool(address.get("use_ssl", False)),
            )
            result = deserialize_value(client.get_current_runs(), GetCurrentRunsResult)
        except Exception as error:  # any gRPC failure: the code server is not reachable now
            # Run monitoring fails every run whose status is not RUNNING: say RUNNING and let
            # the next check (or max_runtime) decide.
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, f"code server unreachable: {type(error).__name__}"
            )
        if run.run_id in result.current_runs:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            "the code server that started this run no longer runs it (it restarted, or the "
            "run worker died)",
        )
