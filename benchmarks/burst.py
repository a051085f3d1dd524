"""A burst of user x job pairs through the production processes and the real daemon.

    .venv/bin/python benchmarks/burst.py [--pairs 10000] [--jobs-per-user 20] [--pool N]
                                         [--timeout 3600] [--keep]

Starts `jobping prod-local` (code server, daemon, webserver) on fresh PostgreSQL databases
with a fake OpenAI and a fake Discord on 127.0.0.1 (the pieces of
`jobping_dagster_tests/stack.py`), writes --pairs chosen pairs (users x postings of one
company with fresh research, as candidate selection leaves them) into the app database at
once, and lets the fan-out sensor, the run queue (the `openai` pool: the production default
unless --pool) and the notification sensor carry them to Discord. About 20% of the pairs
score high; each user has their own webhook.

Prints progress, then: seconds until every pair was scored and until the stack settled
(every message delivered, no run active, every sensor idle), runs by job, OpenAI scoring
calls and pairs scored more than once, failed runs, and CPU seconds of the stack's processes
(measured by sampling /proc every second, and as reaped child time after the stack stopped)
per pair. Last line JSON. Databases are dropped at the end; --keep keeps the folder with the
logs. Needs PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
import warnings
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

# The stack harness and the fakes live with the tests, which are not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jobping_dagster.db.engine import get_engine
from jobping_dagster.db.schema import user_job_matches
from jobping_dagster_tests.conftest import PG_ADMIN_URL
from jobping_dagster_tests.fakes.discord_server import FakeDiscord
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI
from jobping_dagster_tests.stack import ROOT, Stack
from jobping_dagster_tests.test_faults_runs import (
    CountingScorer,
    choose,
    materializations_by_partition,
    seed_burst,
    set_pool,
    start,
)

PROGRESS_EVERY_SECONDS = 30


class CpuSampler:
    """CPU seconds (user + system) of every process in the stack's sessions (each role is
    started in a session of its own; run workers are in the code server's), sampled from
    /proc every second; a process's time after its last sample is missed."""

    def __init__(self, supervisor_pid: int, run_dir: Path):
        self.supervisor_pid = supervisor_pid
        self.run_dir = run_dir
        self.seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> CPU seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def start(self) -> "CpuSampler":
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=10)
        return self.total

    @property
    def total(self) -> float:
        return sum(self.seen.values())

    def _sessions(self) -> set[int]:
        sessions = {self.supervisor_pid}
        for pid_file in self.run_dir.glob("*.pid"):
            try:
                sessions.add(int(pid_file.read_text()))
            except (OSError, ValueError):
                pass
        return sessions

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            sessions = self._sessions()
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                # fields: state ppid pgrp session ... utime(11) stime(12) ... starttime(19)
                if int(fields[3]) in sessions:
                    cpu = (int(fields[11]) + int(fields[12])) / self._tick
                    self.seen[(int(entry.name), int(fields[19]))] = cpu


def count_scored(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(user_job_matches)).scalar_one()


def run(pairs: int, jobs_per_user: int, pool: int | None, timeout: float, keep: bool) -> dict:
    n_users = max(1, pairs // jobs_per_user)
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    names = {role: f"jobping_burst_{role}_{uuid.uuid4().hex[:8]}" for role in ("dagster", "app")}
    with admin.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    home = Path(tempfile.mkdtemp(prefix="jobping_burst_"))
    admin_url = sa.make_url(PG_ADMIN_URL)
    app_url = admin_url.set(database=names["app"]).render_as_string(hide_password=False)
    dagster_home = home / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    scorer = CountingScorer()
    stack = None
    figures: dict = {"pairs": n_users * jobs_per_user, "users": n_users, "timed_out": False}
    try:
        with FakeOpenAI(score_fn=scorer) as openai, FakeDiscord() as discord:
            settings = {
                "DAGSTER_HOME": str(dagster_home),
                "DAGSTER_PG_HOST": admin_url.host or "127.0.0.1",
                "DAGSTER_PG_PORT": str(admin_url.port or 5432),
                "DAGSTER_PG_USER": admin_url.username or "postgres",
                "DAGSTER_PG_PASSWORD": admin_url.password or "",
                "DAGSTER_PG_DB": names["dagster"],
                "JOBPING_HOME": str(home / "jobping"),
                "JOBPING_DATABASE_URL": app_url,
                "OPENAI_API_KEY": "fake-key-for-the-burst-benchmark",
                "OPENAI_BASE_URL": openai.base_url,
                "JOBPING_WEBHOOK_ALLOWED_HOSTS": discord.host,
                "JOBPING_SENSOR_INTERVAL_SECONDS": "5",
                "JOBPING_SCRAPE_CRON": "0 0 1 1 *",
            }
            os.environ.update(settings)  # this process reads the same instance
            stack = Stack(home, dict(os.environ), discord, app_url, openai)
            stack.deadline = time.monotonic() + timeout + 600
            if pool is not None:
                set_pool(stack, pool)
            burst = seed_burst(stack, n_users, jobs_per_user)
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start(stack)
            sampler = CpuSampler(stack.supervisor.pid, stack.run_dir).start()
            started = time.monotonic()
            choose(stack.app_engine, burst.pairs)
            print(f"{len(burst.pairs)} pairs chosen ({n_users} users x {jobs_per_user} postings)")
            deadline = started + timeout
            scored_at = settled_at = None
            last_report = 0.0
            while time.monotonic() < deadline:
                if stack.supervisor.poll() is not None:
                    raise RuntimeError(f"the stack stopped:\n{stack.supervisor_output()[-3000:]}")
                scored = count_scored(stack.app_engine)
                if scored_at is None and scored >= len(burst.pairs):
                    scored_at = time.monotonic() - started
                if scored_at is not None and stack.settled():
                    settled_at = time.monotonic() - started
                    break
                if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                    last_report = time.monotonic()
                    print(
                        f"  {last_report - started:6.0f} s: {scored} scored, "
                        f"{len(stack.active_runs())} runs active, "
                        f"{dict(stack.runs_by_job())}",
                        flush=True,
                    )
                time.sleep(2)
            else:
                figures["timed_out"] = True
                print(f"timed out after {timeout:.0f} s:\n{stack.snapshot()}")
            runs = stack.runs_by_job()
            failed = stack.instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
            materialized = materializations_by_partition(stack.instance)
            expected, delivered = stack.expected(), stack.delivered()
            figures.update(
                seconds_to_all_scored=round(scored_at, 1) if scored_at else None,
                seconds_to_settled=round(settled_at, 1) if settled_at else None,
                scored=count_scored(stack.app_engine),
                runs=dict(runs),
                match_runs=runs["match_job"],
                failed_runs=len(failed),
                active_runs_at_end=len(stack.active_runs()),
                scoring_calls=scorer.total,
                pairs_scored_more_than_once=sum(1 for n in scorer.calls.values() if n > 1),
                pairs_materialized_more_than_once=sum(1 for n in materialized.values() if n > 1),
                messages_expected=sum(expected.values()),
                messages_delivered=sum(delivered.values()),
                messages_doubled=sum(1 for n in delivered.values() if n > 1),
                peak_match_runs=stack.max_concurrent({"match_job"}),
            )
            sampled_cpu = sampler.stop()
            stack.stop()
            stack = None
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            reaped_cpu = (cpu.ru_utime + cpu.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
            me = resource.getrusage(resource.RUSAGE_SELF)
            figures.update(
                stack_cpu_seconds_sampled=round(sampled_cpu, 1),
                stack_cpu_seconds_reaped=round(reaped_cpu, 1),
                cpu_ms_per_pair=round(1000 * max(sampled_cpu, reaped_cpu) / len(burst.pairs), 1),
                benchmark_process_cpu_seconds=round(me.ru_utime + me.ru_stime, 1),
            )
    finally:
        if stack is not None:
            stack.stop()
        get_engine.cache_clear()
        with admin.connect() as conn:
            for name in names.values():
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        if keep:
            print(f"kept {home} (logs in {home / 'run' / 'logs'})")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return figures


def main() -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--jobs-per-user", type=int, default=20)
    parser.add_argument(
        "--pool", type=int, default=None, help="`openai` pool limit (default: dagster.yaml's)"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds, then give up")
    parser.add_argument("--keep", action="store_true", help="keep the folder with the logs")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = run(args.pairs, args.jobs_per_user, args.pool, args.timeout, args.keep)
    figures["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(
        f"\n{figures['pairs']} pairs: all scored after {figures['seconds_to_all_scored']} s, "
        f"settled after {figures['seconds_to_settled']} s; {figures['match_runs']} match runs "
        f"(at most {figures['peak_match_runs']} at once), runs {figures['runs']}; "
        f"{figures['scoring_calls']} scoring calls, "
        f"{figures['pairs_scored_more_than_once']} pairs scored twice, "
        f"{figures['failed_runs']} failed runs; {figures['messages_delivered']} of "
        f"{figures['messages_expected']} messages; stack CPU "
        f"{figures['stack_cpu_seconds_sampled']} s sampled / "
        f"{figures['stack_cpu_seconds_reaped']} s reaped = "
        f"{figures['cpu_ms_per_pair']} ms a pair"
    )
    print(json.dumps(figures))
    ok = (
        not figures["timed_out"]
        and figures["failed_runs"] == 0
        and figures["pairs_scored_more_than_once"] == 0
        and figures["messages_doubled"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
