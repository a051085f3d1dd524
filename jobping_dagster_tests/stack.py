"""The production processes under test: `jobping prod-local` (code server, daemon and
webserver, each through `jobping serve`) on fresh PostgreSQL databases, with fake OpenAI and
fake Discord servers on 127.0.0.1, and what a test can see of them. Shared by the end-to-end
and the fault tests."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.scheduler.instigation import InstigatorType, TickStatus
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from jobping_dagster.db.engine import get_engine
from jobping_dagster.db.schema import (
    jobs,
    match_candidates,
    notifications,
    user_job_matches,
    users,
)
from jobping_dagster.partition_status import ACTIVE_RUN_STATUSES
from jobping_dagster.prod_local import wait_for_port
from jobping_dagster_tests.builders import user
from jobping_dagster_tests.conftest import PG_ADMIN_URL
from jobping_dagster_tests.fakes.discord_server import FakeDiscord
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI, score_for

ROOT = Path(__file__).resolve().parents[1]
# Each phase normally settles within a minute and a half, two on a loaded machine; the
# whole test stops by itself after TEST_TIMEOUT_SECONDS (three phases).
PHASE_TIMEOUT_SECONDS = 150
TEST_TIMEOUT_SECONDS = 3 * PHASE_TIMEOUT_SECONDS
START_TIMEOUT_SECONDS = 60


def read_from(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The processes under test and what the test can see of them."""

    def __init__(
        self, tmp_path: Path, env: dict, discord: FakeDiscord, app_url: str, openai: FakeOpenAI
    ):
        self.tmp_path = tmp_path
        self.env = env
        self.discord = discord
        self.openai = openai
        self.app_engine = get_engine(app_url)
        self.run_dir = tmp_path / "run"
        self.output = tmp_path / "supervisor.out"
        self.webserver_port = free_port()
        self.code_server_port = free_port()
        self.api_port = free_port()
        self.supervisor: subprocess.Popen | None = None
        self.instance: dg.DagsterInstance | None = None
        self.webhooks: dict[str, int] = {}  # webhook id -> user id
        self.deadline = time.monotonic() + TEST_TIMEOUT_SECONDS

    def start(self) -> None:
        with self.output.open("wb") as out:
            self.supervisor = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "jobping"), "prod-local",
                    "--run-dir", str(self.run_dir),
                    "--code-server-port", str(self.code_server_port),
                    "--webserver-port", str(self.webserver_port),
                    "--api-port", str(self.api_port),
                ],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.instance = dg.DagsterInstance.from_config(self.env["DAGSTER_HOME"])
        assert wait_for_port("127.0.0.1", self.webserver_port, START_TIMEOUT_SECONDS), (
            self.supervisor_output()
        )

    def stop(self) -> None:
        if self.supervisor and self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
            try:
                self.supervisor.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.supervisor.pid, signal.SIGKILL)
                self.supervisor.wait()
        # Belt and braces: whatever a failed stop left behind.
        for pid_file in self.run_dir.glob("*.pid"):
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        if self.instance:
            self.instance.dispose()
            self.instance = None
        self.app_engine.dispose()

    def supervisor_output(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def pid(self, role: str) -> int:
        return int((self.run_dir / f"{role}.pid").read_text())

    def add_users(self, prompts: dict[str, str]) -> set[int]:
        added = set()
        for email, prompt in prompts.items():
            webhook_id = str(3000 + len(self.webhooks))
            user_id = user(
                self.app_engine,
                email,
                prompt,
                allowed_hosts={self.discord.host},
                discord_webhook=self.discord.webhook_url(webhook_id),
            )
            self.webhooks[webhook_id] = user_id
            added.add(user_id)
        return added

    def launch_scrape(self) -> str:
        """What an operator does in the UI: launch today's scrape partition."""
        client = DagsterGraphQLClient("127.0.0.1", port_number=self.webserver_port)
        today = datetime.now(UTC).date().isoformat()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                return client.submit_job_execution(
                    "scrape_job",
                    repository_location_name="jobping",
                    tags={"dagster/partition": today},
                )
            except DagsterGraphQLClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)  # the code location is still loading

    def expected(self) -> Counter:
        """(user, job) pairs the pre-filter chose and the fake scorer rates at or above the
        user's threshold: one Discord message each. (Which pairs the pre-filter chooses is
        tested elsewhere; here every chosen high score must arrive once.)"""
        with self.app_engine.connect() as conn:
            chosen = conn.execute(
                sa.select(users.c.id, users.c.prompt, users.c.min_score, jobs.c.id.label("job"))
                .select_from(match_candidates)
                .join(users, users.c.id == match_candidates.c.user_id)
                .join(jobs, jobs.c.id == match_candidates.c.job_id)
                .add_columns(jobs.c.title)
            ).all()
        return Counter(
            (row.id, row.job) for row in chosen if score_for(row.prompt, row.title) >= row.min_score
        )

    def delivered(self) -> Counter:
        with self.app_engine.connect() as conn:
            job_by_url = dict(conn.execute(sa.select(jobs.c.url, jobs.c.id)).all())
        return Counter(
            (user_id, job_by_url.get(message["embeds"][0].get("url")))
            for webhook_id, user_id in self.webhooks.items()
            for message in self.discord.messages(webhook_id)
        )

    def active_runs(self) -> list:
        return list(self.instance.get_runs(dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)))

    def sensors(self) -> dict:
        """Each sensor's cursor and latest tick."""
        result = {}
        for state in self.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
            ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            cursor = state.instigator_data.cursor if state.instigator_data else None
            result[state.instigator_name] = (cursor, ticks[0] if ticks else None)
        return result

    def settled(self, since: float = 0.0) -> bool:
        """Everything expected delivered, no run pending, every sensor's latest tick found
        nothing to do after the last run ended and after `since` (a time.time()): a fault
        may stop every tick, and ticks from before it say nothing about work added since."""
        if self.delivered() != self.expected() or self.active_runs():
            return False
        last_end = max((r.end_time or 0 for r in self.instance.get_run_records()), default=0)
        ticks = [tick for _, tick in self.sensors().values()]
        return len(ticks) == 4 and all(
            tick and tick.status == TickStatus.SKIPPED and tick.timestamp > max(last_end, since)
            for tick in ticks
        )

    def wait_until_settled(self, phase: str, since: float = 0.0) -> float:
        started = time.monotonic()
        while not self.settled(since):
            if self.supervisor.poll() is not None:
                pytest.fail(f"{phase}: the stack stopped\n{self.supervisor_output()[-3000:]}")
            waited = time.monotonic() - started
            if waited > PHASE_TIMEOUT_SECONDS or time.monotonic() > self.deadline:
                pytest.fail(f"{phase}: not settled after {waited:.0f} s\n{self.snapshot()}")
            time.sleep(1)
        return time.monotonic() - started

    def snapshot(self) -> str:
        expected, delivered = self.expected(), self.delivered()
        runs = Counter(
            (r.job_name, r.status.value, r.tags.get("dagster/run_key", "").split(":")[0])
            for r in self.instance.get_runs()
        )
        sensors = {
            name: (cursor, tick.status.value if tick else None)
            for name, (cursor, tick) in self.sensors().items()
        }
        return (
            f"missing deliveries: {sorted((expected - delivered).elements())[:10]}\n"
            f"extra deliveries: {sorted((delivered - expected).elements())[:10]}\n"
            f"runs: {dict(runs)}\nsensors: {sensors}\n"
            f"supervisor:\n{self.supervisor_output()[-2000:]}"
        )

    def assert_settled_state(self) -> None:
        expected = self.expected()
        delivered = self.delivered()
        assert expected, "the prompts should produce high-score matches"
        # Exactly once: no message missing, none doubled, none below the threshold.
        assert delivered == expected
        assert max(delivered.values()) == 1
        with self.app_engine.connect() as conn:
            below = conn.execute(
                sa.select(sa.func.count())
                .select_from(notifications.join(user_job_matches))
                .where(user_job_matches.c.score < user_job_matches.c.notify_threshold)
            ).scalar_one()
            statuses = Counter(conn.execute(sa.select(notifications.c.status)).scalars())
        assert below == 0
        assert statuses == Counter({"sent": sum(expected.values())})
        assert self.active_runs() == []
        failed = self.instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
        assert [r.job_name for r in failed] == []
        self.assert_cursors_caught_up()

    def assert_cursors_caught_up(self) -> None:
        sensors = self.sensors()
        assert set(sensors) == {
            "candidate_selection_sensor",
            "company_research_sensor",
            "match_fan_out_sensor",
            "notification_sensor",
        }
        # The notification sensor keeps no cursor: the app database says what is due.
        fan_out = json.loads(sensors["match_fan_out_sensor"][0])
        assert (fan_out["new_pairs"], fan_out["waiting"]) == (0, 0)
        for name, (_, tick) in sensors.items():
            assert tick.status == TickStatus.SKIPPED, (
                f"{name}: {tick.status.value} {time.time() - tick.timestamp:.0f} s ago,"
                f" runs {tick.run_ids}, skipped {tick.skip_reason!r}, run keys {tick.run_keys}"
            )

    def failed_ticks_since(self, since: float) -> list:
        return [
            tick
            for state in self.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            for tick in self.instance.get_ticks(
                state.instigator_origin_id, state.selector_id, statuses=[TickStatus.FAILURE]
            )
            if tick.timestamp >= since
        ]

    def max_concurrent(self, job_names: set[str]) -> int:
        """The most runs of these jobs that were ever running at the same moment."""
        edges = []
        for record in self.instance.get_run_records():
            if record.dagster_run.job_name in job_names and record.start_time:
                edges += [(record.start_time, 1), (record.end_time or time.time(), -1)]
        running = peak = 0
        for _, change in sorted(edges, key=lambda edge: (edge[0], edge[1])):
            running += change
            peak = max(peak, running)
        return peak

    def runs_by_job(self) -> Counter:
        return Counter(r.job_name for r in self.instance.get_runs())

    def runs_by_key_prefix(self) -> Counter:
        """'match', 'match-retry', 'research', 'notify'... from each run's run key."""
        return Counter(
            r.tags.get("dagster/run_key", "manual").split(":")[0] for r in self.instance.get_runs()
        )


@contextlib.contextmanager
def running_stack(
    pg_admin_engine, tmp_path: Path, monkeypatch, **stack_env: str | Callable[[dict], str]
):
    """Fresh databases, fakes and settings for a Stack (not started). `stack_env` overrides
    settings for the stack's processes only (for example a database port behind a proxy the
    test controls); this process keeps the direct settings. A value may be a function of
    the settings (a dict), for one that depends on the fresh database names:
    `JOBPING_DATABASE_URL=lambda settings: ...settings["JOBPING_DATABASE_URL"]...`."""
    names = {role: f"jobping_e2e_{role}_{uuid.uuid4().hex[:8]}" for role in ("dagster", "app")}
    with pg_admin_engine.connect() as conn:
        for name in names.values():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin = sa.make_url(PG_ADMIN_URL)
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    app_url = admin.set(database=names["app"]).render_as_string(hide_password=False)
    with FakeOpenAI() as openai, FakeDiscord() as discord:
        settings = {
            "DAGSTER_HOME": str(dagster_home),
            "DAGSTER_PG_HOST": admin.host or "127.0.0.1",
            "DAGSTER_PG_PORT": str(admin.port or 5432),
            "DAGSTER_PG_USER": admin.username or "postgres",
            "DAGSTER_PG_PASSWORD": admin.password or "",
            "DAGSTER_PG_DB": names["dagster"],
            "JOBPING_HOME": str(tmp_path / "jobping"),
            "JOBPING_DATABASE_URL": app_url,
            "OPENAI_API_KEY": "fake-key-for-the-e2e-test",
            "OPENAI_BASE_URL": openai.base_url,
            "JOBPING_WEBHOOK_ALLOWED_HOSTS": discord.host,
            "JOBPING_SENSOR_INTERVAL_SECONDS": "5",
            # The scrape comes from the manual launch; an hourly tick during the test would
            # only repeat it (no new postings), but would change the run counts.
            "JOBPING_SCRAPE_CRON": "0 0 1 1 *",
        }
        for name, value in settings.items():
            monkeypatch.setenv(name, value)  # this process reads the same instance
        overrides = {
            name: value(dict(settings)) if callable(value) else value
            for name, value in stack_env.items()
        }
        under_test = Stack(tmp_path, {**os.environ, **overrides}, discord, app_url, openai)
        try:
            yield under_test
        finally:
            under_test.stop()
            get_engine.cache_clear()
            with pg_admin_engine.connect() as conn:
                for name in names.values():
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
