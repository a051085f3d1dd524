"""The `prod-local` supervisor, on small stand-in processes: a death is reported and the
process restarted; a configuration error stops everything; stopping leaves nothing behind."""

import os
import sys
import time
from pathlib import Path

import pytest

from jobping_dagster import prod_local
from jobping_dagster.prod_local import Process, Stack, serve_args


def _process(tmp_path: Path, role: str, code: str) -> Process:
    return Process(
        role=role,
        argv=[sys.executable, "-c", code],
        log_path=tmp_path / "logs" / f"{role}.log",
        pid_path=tmp_path / f"{role}.pid",
    )


def _poll_until(stack: Stack, condition, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        stack.poll()
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): check its state.
    status = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return status != "Z"


def test_serve_args_name_the_role_and_only_its_options():
    assert serve_args("daemon", "h", None, "w.yaml") == ["serve", "daemon", "--workspace", "w.yaml"]
    assert serve_args("code-server", "h", 4000, "w.yaml") == [
        "serve", "code-server", "--host", "h", "--port", "4000",
    ]  # fmt: skip
    assert serve_args("api", "h", 8000, "w.yaml") == [
        "serve",
        "api",
        "--host",
        "h",
        "--port",
        "8000",
    ]


def test_a_process_that_dies_is_reported_and_restarted(tmp_path):
    said = []
    crashing = _process(tmp_path, "daemon", "print('daemon going down'); raise SystemExit(1)")
    stack = Stack([crashing], os.environ, said.append)
    try:
        stack.start()
        first_pid = crashing.popen.pid
        _poll_until(stack, lambda: crashing.popen is not None and crashing.popen.pid != first_pid)
    finally:
        stack.stop()
    assert f"daemon (pid {first_pid}) exited with status 1 after 0 s" in said
    assert "  daemon| daemon going down" in said
    assert "restarting daemon in 1 s" in said
    assert not stack.stopping or stack.exit_status == 0


def test_a_configuration_error_stops_the_whole_stack(tmp_path):
    said = []
    broken = _process(tmp_path, "code-server", "import sys; print('bad setting'); sys.exit(2)")
    other = _process(tmp_path, "webserver", "import time; time.sleep(60)")
    stack = Stack([broken, other], os.environ, said.append)
    stack.start()
    other_pid = other.popen.pid
    _poll_until(stack, lambda: stack.stopping)
    stack.stop()
    assert stack.exit_status == 2
    assert "code-server cannot start: fix the setting above; stopping JobPing" in said
    assert not _alive(other_pid)
    assert not list(tmp_path.glob("*.pid"))


def test_a_process_that_keeps_dying_stops_the_stack(tmp_path, monkeypatch):
    monkeypatch.setattr(prod_local, "MAX_RESTARTS", 1)
    said = []
    crashing = _process(tmp_path, "daemon", "raise SystemExit(1)")
    stack = Stack([crashing], os.environ, said.append)
    stack.start()
    _poll_until(stack, lambda: stack.stopping)
    stack.stop()
    assert stack.exit_status == 1
    assert any(line.startswith("daemon died 2 times in 5 minutes") for line in said)


def test_stop_kills_what_ignores_sigterm_and_the_children_it_started(tmp_path, monkeypatch):
    monkeypatch.setattr(prod_local, "STOP_TIMEOUT_SECONDS", 1)
    child_pid_file = tmp_path / "child.pid"
    stubborn = _process(
        tmp_path,
        "code-server",
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(child_pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )
    said = []
    stack = Stack([stubborn], os.environ, said.append)
    stack.start()
    _poll_until(stack, lambda: child_pid_file.exists() and child_pid_file.read_text())
    child_pid = int(child_pid_file.read_text())
    stack.stop()
    assert "code-server did not stop in 1 s: killed" in said
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


@pytest.mark.parametrize("missing", ["DAGSTER_PG_HOST", "JOBPING_DATABASE_URL"])
def test_creating_databases_names_missing_settings(missing):
    env = {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_DB": "d",
        "JOBPING_DATABASE_URL": "postgresql://postgres@127.0.0.1/a",
    }
    del env[missing]
    with pytest.raises(prod_local.StartupError, match=f"{missing} not set"):
        prod_local.ensure_databases(env)
