"""The health check behind run monitoring, against a real code server (`dagster api grpc`):
a run the code server that started it no longer runs is failed; a code server that cannot
be reached, or a run that just started, is left alone."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.launcher.base import WorkerStatus

from jobping_dagster.prod_local import wait_for_port
from jobping_dagster.run_launcher import START_GRACE_SECONDS, HealthCheckedRunLauncher

GRPC_INFO_TAG = ".dagster/grpc_info"
DEFS = """
import dagster as dg

@dg.op
def noop():
    return 1

@dg.job
def tiny():
    noop()

defs = dg.Definitions(jobs=[tiny])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def code_server(tmp_path):
    (tmp_path / "tiny.py").write_text(DEFS)
    port = _free_port()
    dagster = str(Path(sys.executable).parent / "dagster")
    process = subprocess.Popen(
        [dagster, "api", "grpc", "--python-file", str(tmp_path / "tiny.py"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for_port("127.0.0.1", port, 60)
        yield port
    finally:
        process.kill()
        process.wait()


def _started_run(instance, port: int, seconds_ago: float) -> dg.DagsterRun:
    run = instance.create_run_for_job(
        dg.job(name="tiny")(lambda: None),
        tags={GRPC_INFO_TAG: json.dumps({"host": "127.0.0.1", "port": port})},
    )
    instance.report_dagster_event(
        DagsterEvent(DagsterEventType.RUN_START.value, job_name="tiny"),
        run_id=run.run_id,
        timestamp=time.time() - seconds_ago,
    )
    return instance.get_run_by_id(run.run_id)


def test_a_run_its_code_server_no_longer_runs_is_failed_and_others_left_alone(code_server):
    with dg.instance_for_test() as instance:
        launcher = HealthCheckedRunLauncher()
        launcher.register_instance(instance)
        lost = _started_run(instance, code_server, seconds_ago=START_GRACE_SECONDS + 30)
        fresh = _started_run(instance, code_server, seconds_ago=0)
        unreachable = _started_run(instance, _free_port(), seconds_ago=START_GRACE_SECONDS + 30)

        assert launcher.supports_check_run_worker_health
        assert launcher.check_run_worker_health(lost).status == WorkerStatus.FAILED
        assert launcher.check_run_worker_health(fresh).status == WorkerStatus.RUNNING
        result = launcher.check_run_worker_health(unreachable)
        assert result.status == WorkerStatus.RUNNING
        assert "unreachable" in result.msg
