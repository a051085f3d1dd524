"""Faults of the production stack around its databases (`jobping prod-local` on fresh
PostgreSQL databases, fake OpenAI and Discord on 127.0.0.1; see stack.py):

- two daemons side by side for two minutes while work flows: no message twice, none lost,
  no run stuck; the duplicate runs, scores and ticks they cause are counted and printed;
- PostgreSQL unreachable for 45 s while match runs, drains and selections are in flight,
  once for Dagster's database and once for the app database, through a TCP proxy on
  127.0.0.1 that only the stack's processes use (the test reads PostgreSQL directly). The
  proxy blackholes (a partition: open connections freeze, new ones get no answer, all
  reset when it heals) or refuses (a crashed server). The stack must recover by itself:
  every high-score match delivered exactly once, nothing parked, no run left queued or
  running, every process alive.

Each test stops by itself: every wait has a deadline, and a failure prints the snapshot.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.scheduler.instigation import InstigatorType

from jobping_dagster.db.schema import companies, match_failures, notifications
from jobping_dagster.serve import ROLES
from jobping_dagster_tests.conftest import PG_ADMIN_URL
from jobping_dagster_tests.fakes.openai_server import default_score, job_title, user_wishes
from jobping_dagster_tests.fakes.tcp_proxy import TcpProxy
from jobping_dagster_tests.stack import ROOT, read_from, running_stack

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

OUTAGE_SECONDS = 45
# After the restore: the users added during the outage go through selection, fan-out, a match
# run and drains (each launched run is seconds of CPU, a minute or more on a busy 2-core
# machine), and a failed pair or company waits its first cool-down of 2 minutes
# (retries.py) before it runs again.
RECOVERY_TIMEOUT_SECONDS = 540
TWO_DAEMONS_SECONDS = 120
MAX_TWO_DAEMONS_SECONDS = 240
SETTLE_TIMEOUT_SECONDS = 360
TEST_DEADLINE_SECONDS = 1080
# Each scoring call of the fake OpenAI takes this long: a batch of pairs stays in flight
# for tens of seconds, long enough to cut the database under it.
SCORING_SECONDS = 1.5
# How a process's log shows it lost its database (psycopg2 through SQLAlchemy or Dagster).
DATABASE_ERROR_SIGNS = (
    "OperationalError",
    "DagsterPostgresException",
    "Retrying failed database connection",
)

WAVE_1 = {
    "frontend@example.com": "Frontend work with React and TypeScript",
    "data@example.com": "Data platform: Spark, dbt, warehouses",
    "ml@example.com": "Machine learning, perception, robotics",
    "backend@example.com": "Backend services in Go or Python",
    "sre@example.com": "Site reliability, Kubernetes platform engineering",
    "security@example.com": "Security engineering, detection and penetration testing",
    "analyst@example.com": "Data analyst, SQL dashboards and insights",
    "devops@example.com": "DevOps and cloud infrastructure automation",
}
WAVE_2 = {
    "mobile@example.com": "Mobile apps, iOS and Android",
    "product@example.com": "Product manager for marketplaces and pricing",
    "design@example.com": "Product designer, UX research",
}
WAVE_3 = {
    "games@example.com": "Gameplay programmer, game tools",
    "rust@example.com": "Rust systems engineering, ledger and payments backend",
    "support@example.com": "Customer support specialist, help desk",
}


def slow_scorer(body) -> int:
    time.sleep(SCORING_SECONDS)
    return default_score(body)


def scoring_requests(stack) -> list:
    return [r for r in stack.openai.requests if _schema(r.body) == "MatchAnalysis"]


def _schema(body) -> str | None:
    if not isinstance(body, dict):
        return None
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("name")


def wait_for(stack, what: str, condition, timeout: float) -> float:
    """Waits for `condition()`; fails with the stack's snapshot after `timeout` seconds."""
    started = time.monotonic()
    while not condition():
        if stack.supervisor.poll() is not None:
            pytest.fail(f"{what}: the stack stopped\n{stack.supervisor_output()[-3000:]}")
        waited = time.monotonic() - started
        if waited > timeout or time.monotonic() > stack.deadline:
            pytest.fail(f"{what}: not after {waited:.0f} s\n{stack.snapshot()}")
        time.sleep(1)
    return time.monotonic() - started


def settled_with(stack, user_ids: set[int]) -> bool:
    """Settled, and the matches of these users are among the expected ones (their selection
    ran): a stack that has not seen them yet is not settled."""
    return user_ids <= {user_id for user_id, _ in stack.expected()} and stack.settled()


def assert_delivered_once(stack) -> None:
    """Every high-score match on Discord exactly once, recorded as sent, nothing parked,
    no run queued or running, the sensors caught up."""
    expected, delivered = stack.expected(), stack.delivered()
    assert expected, "the prompts should produce high-score matches"
    missing, extra = expected - delivered, delivered - expected
    assert not missing and not extra, f"missing {sorted(missing)}, extra {sorted(extra)}"
    assert max(delivered.values()) == 1
    with stack.app_engine.connect() as conn:
        statuses = Counter(conn.execute(sa.select(notifications.c.status)).scalars())
        parked_pairs = conn.execute(
            sa.select(sa.func.count())
            .select_from(match_failures)
            .where(match_failures.c.next_attempt_at.is_(None))
        ).scalar_one()
        parked_companies = conn.execute(
            sa.select(sa.func.count())
            .select_from(companies)
            .where(companies.c.info.is_(None))
            .where(companies.c.research_attempts > 0)
            .where(companies.c.next_attempt_at.is_(None))
        ).scalar_one()
    assert statuses == Counter({"sent": sum(expected.values())}), statuses
    assert (parked_pairs, parked_companies) == (0, 0)
    assert stack.active_runs() == []
    stack.assert_cursors_caught_up()


def roles_alive(stack) -> dict[str, int]:
    pids = {}
    for role in ROLES:
        pid = stack.pid(role)
        os.kill(pid, 0)  # raises if it is gone
        pids[role] = pid
    return pids


def runs_summary(stack) -> dict:
    runs = stack.instance.get_runs()
    return {
        "by_status": dict(Counter(r.status.value for r in runs)),
        "failed": dict(
            Counter(r.job_name for r in runs if r.status == dg.DagsterRunStatus.FAILURE)
        ),
        "retries": sum(1 for r in runs if r.tags.get("dagster/parent_run_id")),
    }


def tick_counts(stack, since: float, until: float) -> dict[str, Counter]:
    """Each sensor's ticks between two times, by status."""
    counts = {}
    for state in stack.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        ticks = stack.instance.get_ticks(
            state.instigator_origin_id, state.selector_id, after=since, before=until
        )
        counts[state.instigator_name] = Counter(t.status.value for t in ticks)
    return counts


def failure_reasons(stack, limit: int = 8) -> list[str]:
    """The first line of the failure message of the last failed runs."""
    reasons = []
    for run in stack.instance.get_runs(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]), limit=limit
    ):
        records = stack.instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
        message = records[-1].event_log_entry.message if records else "(no failure event)"
        reasons.append(f"{run.job_name}: {(message or '').splitlines()[0][:160]}")
    return reasons


# --- two daemons ----------------------------------------------------------------------


def start_extra_daemon(stack, log_path: Path) -> subprocess.Popen:
    """A second `jobping serve daemon`, as prod-local starts the first (same environment and
    workspace), beside it."""
    env = {
        **stack.env,
        "JOBPING_CODE_SERVER_HOST": "127.0.0.1",
        "JOBPING_CODE_SERVER_PORT": str(stack.code_server_port),
    }
    jobping = str(Path(sys.executable).parent / "jobping")
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [jobping, "serve", "daemon", "--workspace", "deploy/workspace.yaml"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop_process_group(process: subprocess.Popen) -> int:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


def duplicate_work(stack) -> dict:
    """What ran more than once: run keys with several runs, pairs and companies
    materialized more than once, pairs scored by OpenAI more than once."""
    runs = stack.instance.get_runs()
    keys = Counter(r.tags["dagster/run_key"] for r in runs if "dagster/run_key" in r.tags)
    retried_keys = {
        r.tags.get("dagster/run_key") for r in runs if r.tags.get("dagster/parent_run_id")
    }
    materialized = {}
    for asset in ("user_job_matches", "company_info"):
        records = stack.instance.fetch_materializations(
            dg.AssetKey(asset), limit=10_000, ascending=True
        ).records
        materialized[asset] = Counter(r.partition_key for r in records)
    scored = Counter((user_wishes(r.body), job_title(r.body)) for r in scoring_requests(stack))
    return {
        "run keys with several runs": sum(1 for k, n in keys.items() if n > 1),
        "extra runs on a run key (not run retries)": sum(
            n - 1 for k, n in keys.items() if n > 1 and k not in retried_keys
        ),
        "pairs materialized twice or more": sum(
            1 for n in materialized["user_job_matches"].values() if n > 1
        ),
        "companies researched twice or more": sum(
            1 for n in materialized["company_info"].values() if n > 1
        ),
        "extra scoring calls": sum(scored.values()) - len(scored),
    }


def heartbeat_warnings(text: str) -> int:
    return sum(1 for line in text.splitlines() if "daemon is still sending heartbeats" in line)


def test_two_daemons_under_load_send_each_message_once(pg_admin_engine, tmp_path, monkeypatch):
    with running_stack(pg_admin_engine, tmp_path, monkeypatch) as stack:
        stack.deadline = time.monotonic() + TEST_DEADLINE_SECONDS
        stack.openai.score_fn = slow_scorer
        stack.add_users(WAVE_1)
        stack.start()
        stack.launch_scrape()
        wait_for(stack, "a match run in flight", lambda: match_run_in_flight(stack), 240)

        # A second daemon joins while a match run is in flight and new users arrive: both
        # run until the stack has settled (at least TWO_DAEMONS_SECONDS, at most
        # MAX_TWO_DAEMONS_SECONDS), so every stage runs under two daemons.
        daemon_log = stack.run_dir / "logs" / "daemon.log"
        extra_log = tmp_path / "daemon-2.log"
        extra = start_extra_daemon(stack, extra_log)
        try:
            window_start = time.time()
            started = time.monotonic()
            waves = [(0, WAVE_2), (60, WAVE_3)]
            later_ids: set[int] = set()
            while True:
                elapsed = time.monotonic() - started
                assert extra.poll() is None, read_from(extra_log, 0)[-3000:]
                assert stack.supervisor.poll() is None, stack.supervisor_output()[-3000:]
                if waves and elapsed >= waves[0][0]:
                    later_ids |= stack.add_users(waves.pop(0)[1])
                if elapsed >= MAX_TWO_DAEMONS_SECONDS or (
                    elapsed >= TWO_DAEMONS_SECONDS and not waves and settled_with(stack, later_ids)
                ):
                    break
                time.sleep(1)
            window_end = time.time()
        finally:
            extra_status = stop_process_group(extra)
        extra_text = read_from(extra_log, 0)
        print(f"\nthe second daemon stopped with status {extra_status}")

        settle = wait_for(
            stack,
            "settled after the second daemon stopped",
            lambda: settled_with(stack, later_ids),
            SETTLE_TIMEOUT_SECONDS,
        )
        duplicates = duplicate_work(stack)
        first_text = read_from(daemon_log, 0)
        ticks = tick_counts(stack, window_start, window_end)
        print(
            f"two daemons for {window_end - window_start:.0f} s, then settled in {settle:.0f} s;"
            f" {sum(stack.expected().values())} messages\n"
            f"runs: {runs_summary(stack)}; by key prefix {dict(stack.runs_by_key_prefix())}\n"
            f"duplicate work: {duplicates}\n"
            f"sensor ticks while two daemons ran: { {k: dict(v) for k, v in ticks.items()} }; "
            f"ticks closer than the interval: {close_ticks(stack, window_start, window_end)}\n"
            f"'still sending heartbeats' warnings: first daemon {heartbeat_warnings(first_text)},"
            f" second {heartbeat_warnings(extra_text)}; 'Ignoring a duplicate run' in the code"
            f" server's log: {duplicate_launches(stack)}\n"
            f"failed runs: {failure_reasons(stack)}"
        )
        assert_delivered_once(stack)
        roles_alive(stack)
        # Dagster notices the second daemon: each says another daemon is sending heartbeats.
        assert heartbeat_warnings(first_text + extra_text) > 0


def close_ticks(stack, since: float, until: float) -> int:
    """Ticks of one sensor that followed the previous one sooner than the sensor's interval
    allows: two daemons evaluating the same sensor."""
    interval = int(stack.env["JOBPING_SENSOR_INTERVAL_SECONDS"])
    close = 0
    for state in stack.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        times = sorted(
            t.timestamp
            for t in stack.instance.get_ticks(
                state.instigator_origin_id, state.selector_id, after=since, before=until
            )
        )
        close += sum(1 for a, b in zip(times, times[1:], strict=False) if b - a < interval - 1)
    return close


def duplicate_launches(stack) -> int:
    text = read_from(stack.run_dir / "logs" / "code-server.log", 0)
    return text.count("Ignoring a duplicate run")


# --- PostgreSQL unreachable -------------------------------------------------------------


def proxied_env(database: str, proxy: TcpProxy) -> dict:
    """The stack's setting that sends one database's traffic through the proxy."""
    if database == "dagster":
        return {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(proxy.port)}
    return {
        "JOBPING_DATABASE_URL": lambda settings: (
            sa.make_url(settings["JOBPING_DATABASE_URL"])
            .set(host="127.0.0.1", port=proxy.port)
            .render_as_string(hide_password=False)
        )
    }


def match_run_in_flight(stack) -> bool:
    """A match run is running and has scored some of its pairs, not all."""
    running = stack.instance.get_runs(
        dg.RunsFilter(job_name="match_job", statuses=[dg.DagsterRunStatus.STARTED])
    )
    return bool(running) and len(scoring_requests(stack)) >= 8


@pytest.mark.parametrize(
    ("database", "mode"),
    [
        ("dagster", "blackhole"),
        ("app", "blackhole"),
        ("dagster", "refuse"),
        ("app", "refuse"),
    ],
)
def test_database_unreachable_for_45_s_under_load_recovers_by_itself(
    pg_admin_engine, tmp_path, monkeypatch, database, mode
):
    admin = sa.make_url(PG_ADMIN_URL)
    with TcpProxy(admin.host or "127.0.0.1", admin.port or 5432) as proxy:
        env = proxied_env(database, proxy)
        with running_stack(pg_admin_engine, tmp_path, monkeypatch, **env) as stack:
            stack.deadline = time.monotonic() + TEST_DEADLINE_SECONDS
            stack.openai.score_fn = slow_scorer
            stack.add_users(WAVE_1)
            stack.start()
            stack.launch_scrape()
            wait_for(stack, "a match run in flight", lambda: match_run_in_flight(stack), 240)
            before = {
                "scored": len(scoring_requests(stack)),
                "delivered": sum(stack.delivered().values()),
                "connections": proxy.open_connections,
            }
            pids_before = roles_alive(stack)
            logs = {role: stack.run_dir / "logs" / f"{role}.log" for role in ROLES}
            offsets = {role: path.stat().st_size for role, path in logs.items()}
            supervisor_offset = len(stack.supervisor_output())

            cut_at = time.time()
            proxy.cut(mode)
            # Work arrives during the outage too (the test writes to PostgreSQL directly).
            late_ids = stack.add_users(WAVE_2)
            time.sleep(OUTAGE_SECONDS)
            proxy.restore()
            restored = time.monotonic()
            restored_at = time.time()
            during = {
                "scored": len(scoring_requests(stack)) - before["scored"],
                "delivered": sum(stack.delivered().values()) - before["delivered"],
            }

            all_delivered: list[float] = []

            def recovered() -> bool:
                done = settled_with(stack, late_ids)
                if not all_delivered:
                    expected = stack.expected()
                    seen = late_ids <= {user_id for user_id, _ in expected}
                    if done or (seen and stack.delivered() == expected):
                        all_delivered.append(time.monotonic() - restored)
                return done

            recovery = wait_for(
                stack,
                f"recovered after {OUTAGE_SECONDS} s without the {database} database ({mode})",
                recovered,
                RECOVERY_TIMEOUT_SECONDS,
            )
            first_delivery_after = min(
                (r.time for r in stack.discord.requests if r.time >= restored), default=None
            )
            supervisor_says = stack.supervisor_output()[supervisor_offset:]
            since_cut = {role: read_from(path, offsets[role]) for role, path in logs.items()}
            db_errors = {
                role: sum(text.count(sign) for sign in DATABASE_ERROR_SIGNS)
                for role, text in since_cut.items()
            }
            print(
                f"\n{database} database {mode} for {OUTAGE_SECONDS} s: settled "
                f"{recovery:.0f} s after the restore, all delivered after {all_delivered[0]:.0f} s"
                + (
                    f" (first delivery {first_delivery_after - restored:.0f} s after)"
                    if first_delivery_after
                    else ""
                )
                + f"; {sum(stack.expected().values())} messages\n"
                f"before the cut: {before}; during it: {during}\n"
                f"runs: {runs_summary(stack)}; by key prefix {dict(stack.runs_by_key_prefix())}\n"
                f"sensor ticks during the outage: "
                f"{ {k: dict(v) for k, v in tick_counts(stack, cut_at, restored_at).items()} }\n"
                f"proxy: {proxy.accepted} connections in all, "
                f"{proxy.hung_in_blackhole} left hanging by a blackhole\n"
                f"database errors in the logs since the cut: {db_errors}\n"
                f"duplicate work: {duplicate_work(stack)}\n"
                f"supervisor since the cut: {supervisor_says.strip() or '(nothing)'}\n"
                f"failed runs: {failure_reasons(stack)}"
            )
            # The outage was felt (else this test proves nothing): errors in the logs, or,
            # in a blackhole, clients left hanging on it (their queries resume on a fresh
            # connection after the restore without logging anything)...
            assert sum(db_errors.values()) > 0 or proxy.hung_in_blackhole > 0
            # ...and the stack got over it by itself.
            assert_delivered_once(stack)
            pids_after = roles_alive(stack)
            restarted = {role for role in ROLES if pids_after[role] != pids_before[role]}
            print(f"processes restarted by the supervisor: {sorted(restarted) or 'none'}")


# --- the proxy itself -------------------------------------------------------------------


def test_proxy_refuses_or_blackholes_until_restored(pg_admin_engine):
    admin = sa.make_url(PG_ADMIN_URL)
    with TcpProxy(admin.host or "127.0.0.1", admin.port or 5432) as proxy:
        url = admin.set(host="127.0.0.1", port=proxy.port)
        engine = sa.create_engine(
            url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 2}
        )
        held = engine.connect()
        try:
            assert held.exec_driver_sql("SELECT 1").scalar_one() == 1

            proxy.cut("refuse")
            with pytest.raises(sa.exc.OperationalError, match="refused"):
                engine.connect()
            with pytest.raises(sa.exc.OperationalError):
                held.exec_driver_sql("SELECT 2")
            proxy.restore()
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 3").scalar_one() == 3

            held.close()
            held = engine.connect()
            proxy.cut("blackhole")
            # A new connection gets no answer: the client's own timeout ends it.
            with pytest.raises(sa.exc.OperationalError, match="timeout expired"):
                engine.connect()
            # A query on an open connection hangs until the restore resets it.
            outcome: list = []
            query = threading.Thread(target=_run_query, args=(held, outcome), daemon=True)
            query.start()
            query.join(timeout=1)
            assert query.is_alive() and not outcome
            proxy.restore()
            query.join(timeout=10)
            assert outcome and isinstance(outcome[0], sa.exc.OperationalError)
            # Both clients the blackhole left hanging are counted.
            assert proxy.hung_in_blackhole == 2
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT 4").scalar_one() == 4
        finally:
            held.invalidate()
            engine.dispose()


def _run_query(conn, outcome: list) -> None:
    try:
        outcome.append(conn.exec_driver_sql("SELECT 5").scalar_one())
    except sa.exc.SQLAlchemyError as error:
        outcome.append(error)
