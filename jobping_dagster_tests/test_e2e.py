"""End to end on the production processes: `jobping prod-local` (code server, daemon and
webserver, each through `jobping serve`) on fresh PostgreSQL databases, with fake OpenAI and
fake Discord servers on 127.0.0.1. A manual launch of today's scrape, then nothing but the
schedule, sensors and daemon, must carry every high-score match to Discord exactly once,
also when the daemon is killed with SIGKILL in the middle of fan-out and when the code
server dies and comes back."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobping_dagster_tests.stack import PHASE_TIMEOUT_SECONDS, read_from, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

FIRST_USERS = {
    "frontend@example.com": "Frontend work with React and TypeScript",
    "data@example.com": "Data platform: Spark, dbt, warehouses",
}
FAN_OUT_USERS = {
    "ml@example.com": "Machine learning, perception, robotics",
    "backend@example.com": "Backend services in Go or Python",
}
LATE_USERS = {"mobile@example.com": "Mobile apps, iOS and Android"}


@pytest.fixture
def stack(pg_admin_engine, tmp_path, monkeypatch):
    with running_stack(pg_admin_engine, tmp_path, monkeypatch) as under_test:
        yield under_test


def test_production_stack_delivers_every_match_once_through_daemon_and_code_server_faults(
    stack,
):
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    stack.add_users(FIRST_USERS)
    # What an operator does to throttle OpenAI: one scoring or research run at a time.
    dagster = str(Path(sys.executable).parent / "dagster")
    subprocess.run(
        [dagster, "instance", "concurrency", "set", "openai", "1"],
        env=stack.env, check=True, capture_output=True,
    )  # fmt: skip
    stack.start()

    # 1. One manual launch; the sensors and the daemon do the rest.
    launched = time.monotonic()
    stack.launch_scrape()
    stack.wait_until_settled("first scrape")
    stack.assert_settled_state()
    first_seconds = max(request.time for request in stack.discord.requests) - launched
    first_runs = stack.runs_by_job()
    print(f"\nphase 1: {time.monotonic() - launched:.0f} s, {dict(stack.runs_by_key_prefix())}")
    assert first_runs["scrape_job"] == 1
    assert first_runs["selection_job"] >= 1
    assert first_runs["research_job"] >= 1
    assert first_runs["match_job"] >= 1
    assert first_runs["notify_job"] >= 1

    # 2. New users fan out over the same jobs; SIGKILL the daemon as their match runs appear.
    fan_out_ids = stack.add_users(FAN_OUT_USERS)
    deadline = time.monotonic() + PHASE_TIMEOUT_SECONDS
    while stack.runs_by_job()["match_job"] == first_runs["match_job"]:
        assert time.monotonic() < deadline, "fan-out for the new users never started"
        time.sleep(0.1)
    daemon_pid = stack.pid("daemon")
    os.kill(daemon_pid, signal.SIGKILL)
    stack.wait_until_settled("after the daemon was killed", since=time.time())
    stack.assert_settled_state()
    assert fan_out_ids <= {user_id for user_id, _ in stack.expected()}
    assert f"daemon (pid {daemon_pid}) exited with signal 9" in stack.supervisor_output()
    assert stack.pid("daemon") != daemon_pid

    # 3. The code server dies and stays away a while (its supervisor paused): the daemon
    # reports every tick it cannot run (a failed tick, or the location's load error, by
    # timing); once the code server is back, the new user's matches arrive, once.
    code_server_pid = stack.pid("code-server")
    late_ids = stack.add_users(LATE_USERS)
    daemon_log = stack.run_dir / "logs" / "daemon.log"
    log_offset = daemon_log.stat().st_size
    killed_at = time.time()
    os.kill(stack.supervisor.pid, signal.SIGSTOP)
    try:
        os.kill(code_server_pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "Could not reach user code server" not in read_from(daemon_log, log_offset):
            assert time.monotonic() < deadline, "the daemon did not report the code server down"
            time.sleep(1)
        time.sleep(6)  # at least one more sensor interval without the code server
    finally:
        os.kill(stack.supervisor.pid, signal.SIGCONT)
    back_at = time.time()
    outage_ticks = stack.failed_ticks_since(killed_at)
    assert all("user code server" in (t.error.message if t.error else "") for t in outage_ticks)
    stack.wait_until_settled("after the code server came back", since=back_at)
    stack.assert_settled_state()
    assert late_ids <= {user_id for user_id, _ in stack.expected()}
    assert f"code-server (pid {code_server_pid}) exited with signal 9" in (
        stack.supervisor_output()
    )

    assert stack.max_concurrent({"match_job", "research_job"}) == 1
    runs = stack.runs_by_job()
    messages = sum(stack.expected().values())
    stack.stop()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (cpu.ru_utime + cpu.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    print(
        f"\ne2e: first scrape to last delivery {first_seconds:.1f} s; runs {dict(first_runs)} "
        f"then {dict(runs)} in all; {messages} messages; "
        f"stack CPU {cpu_seconds:.0f} s = {cpu_seconds / max(1, sum(runs.values())):.1f} s "
        f"per run; {len(outage_ticks)} sensor ticks failed while the code server was down"
    )
