"""`jobping prod-local`: JobPing's production processes on one machine. The code server,
the daemon and the webserver each start as `jobping serve ROLE` (the same commands as
docker-compose.yml) and are watched until the stack is stopped with Ctrl-C or SIGTERM.

A process that exits is reported with its exit status and the end of its log, then
restarted after a back-off, as a container platform would. A process that cannot start
(exit status 2: a configuration error, already explained in its log) or that keeps dying
stops the whole stack, so nothing is silently absent."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from jobping_dagster.db.engine import driver_reason, normalize_url
from jobping_dagster.local_secret import kept_secret
from jobping_dagster.preflight import StartupError
from jobping_dagster.serve import ROLES, executable

CONFIG_ERROR_STATUS = 2
MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 300
STOP_TIMEOUT_SECONDS = 20


def serve_args(role: str, host: str, port: int | None, workspace: str) -> list[str]:
    """Arguments of `jobping` for one role; docker-compose.yml uses the same ones."""
    args = ["serve", role]
    if role != "daemon":
        args += ["--host", host, "--port", str(port)]
    if role in ("daemon", "webserver"):
        args += ["--workspace", workspace]
    return args


@dataclass
class Process:
    role: str
    argv: list[str]
    log_path: Path
    pid_path: Path
    popen: subprocess.Popen | None = None
    started: float = 0.0
    deaths: list[float] = field(default_factory=list)
    restart_at: float | None = None


class Stack:
    def __init__(
        self,
        processes: list[Process],
        env: Mapping[str, str],
        say: Callable[[str], None] = print,
    ):
        self.processes = processes
        self.env = dict(env)
        self.say = say
        self.stopping = False
        self.exit_status = 0

    def start(self) -> None:
        for process in self.processes:
            self._spawn(process)

    def _spawn(self, process: Process) -> None:
        process.log_path.parent.mkdir(parents=True, exist_ok=True)
        with process.log_path.open("ab") as log:
            process.popen = subprocess.Popen(
                process.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group: stopping reaches the code server's gRPC child and run
                # workers too, and a Ctrl-C in the terminal reaches only this supervisor.
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        process.started = time.monotonic()
        process.restart_at = None
        process.pid_path.write_text(f"{process.popen.pid}\n")
        self.say(f"started {process.role} (pid {process.popen.pid}, log {process.log_path})")

    def poll(self) -> None:
        """Reports processes that exited and restarts those whose back-off has passed."""
        now = time.monotonic()
        for process in self.processes:
            if process.popen is None:
                if process.restart_at is not None and now >= process.restart_at:
                    self._spawn(process)
                continue
            status = process.popen.poll()
            if status is None:
                continue
            self._report_death(process, status, now)
            if self.stopping:
                return

    def _report_death(self, process: Process, status: int, now: float) -> None:
        uptime = now - process.started
        how = f"signal {-status}" if status < 0 else f"status {status}"
        self.say(f"{process.role} (pid {process.popen.pid}) exited with {how} after {uptime:.0f} s")
        for line in _tail(process.log_path, 5):
            self.say(f"  {process.role}| {line}")
        process.popen = None
        process.pid_path.unlink(missing_ok=True)
        process.deaths = [t for t in process.deaths if now - t < RESTART_WINDOW_SECONDS] + [now]
        if status == CONFIG_ERROR_STATUS:
            self.say(f"{process.role} cannot start: fix the setting above; stopping JobPing")
            self._fail(CONFIG_ERROR_STATUS)
        elif len(process.deaths) > MAX_RESTARTS:
            self.say(
                f"{process.role} died {len(process.deaths)} times in "
                f"{RESTART_WINDOW_SECONDS // 60} minutes; stopping JobPing"
            )
            self._fail(1)
        else:
            delay = min(30, 2 ** (len(process.deaths) - 1))
            self.say(f"restarting {process.role} in {delay} s")
            process.restart_at = now + delay

    def _fail(self, status: int) -> None:
        self.exit_status = status
        self.stopping = True

    def stop(self) -> None:
        """SIGTERM to every process group, SIGKILL to what is left after the timeout. In
        reverse start order, so the daemon launches nothing while the code server goes."""
        self.stopping = True
        alive = [p for p in reversed(self.processes) if p.popen is not None]
        for process in alive:
            _signal_group(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in alive:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{process.role} did not stop in {STOP_TIMEOUT_SECONDS} s: killed")
            # Whatever the process left in its group (a gRPC child, a run worker) goes too.
            _signal_group(process.popen.pid, signal.SIGKILL)
            process.popen.wait()
            process.pid_path.unlink(missing_ok=True)
            self.say(f"stopped {process.role}")
            process.popen = None


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """If the supervisor itself is killed (kill -9), its children get SIGTERM instead of
    running on unwatched."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail(path: Path, lines: int) -> list[str]:
    try:
        text = path.read_bytes()[-8192:].decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def ensure_databases(env: Mapping[str, str], say: Callable[[str], None] = print) -> None:
    """Creates Dagster's database and the app database on the local server if missing
    (a convenience of `make prod-local`; production databases are provisioned)."""
    needed = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB")
    missing = [name for name in (*needed, "JOBPING_DATABASE_URL") if not env.get(name)]
    if missing:
        raise StartupError(f"{', '.join(missing)} not set (needed to create the databases)")
    dagster_url = sa.URL.create(
        "postgresql+psycopg2",
        username=env["DAGSTER_PG_USER"],
        password=env.get("DAGSTER_PG_PASSWORD") or None,
        host=env["DAGSTER_PG_HOST"],
        port=int(env["DAGSTER_PG_PORT"]),
        database=env["DAGSTER_PG_DB"],
    )
    for url in (dagster_url, sa.make_url(normalize_url(env["JOBPING_DATABASE_URL"]))):
        admin = sa.create_engine(
            url.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 5},
        )
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": url.database},
                ).first()
                if not exists:
                    conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
                    say(f"created database {url.database}")
        except sa.exc.SQLAlchemyError as error:
            rendered = url.set(database="postgres").render_as_string(hide_password=True)
            raise StartupError(
                f"cannot create database {url.database} on {rendered}: {driver_reason(error)}"
            ) from None
        finally:
            admin.dispose()


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return True
        time.sleep(0.5)
    return False


def run(
    run_dir: Path,
    host: str,
    code_server_port: int,
    webserver_port: int,
    workspace: str,
    create_databases: bool,
    api_port: int = 8000,
) -> int:
    env = dict(os.environ)
    env.setdefault("JOBPING_DAGSTER_GRAPHQL_URL", f"http://{host}:{webserver_port}/graphql")
    if not env.get("JOBPING_JWT_SECRET"):
        env["JOBPING_JWT_SECRET"] = kept_secret(run_dir / "jwt_secret")
        print(f"JOBPING_JWT_SECRET is not set: the API signs sessions with {run_dir}/jwt_secret")
    # The daemon and webserver find the code server through the production workspace.
    env.setdefault("JOBPING_CODE_SERVER_HOST", host)
    env.setdefault("JOBPING_CODE_SERVER_PORT", str(code_server_port))
    if create_databases:
        ensure_databases(env)
    ports = {"code-server": code_server_port, "webserver": webserver_port, "api": api_port}
    jobping = executable("jobping")
    processes = [
        Process(
            role=role,
            argv=[jobping, *serve_args(role, host, ports.get(role), workspace)],
            log_path=run_dir / "logs" / f"{role}.log",
            pid_path=run_dir / f"{role}.pid",
        )
        for role in ROLES
    ]
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    stack = Stack(processes, env)

    def request_stop(signum, _frame):
        stack.say(f"received {signal.Signals(signum).name}: stopping JobPing")
        stack.stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stack.start()
    announced = False
    try:
        while not stack.stopping:
            stack.poll()
            if not announced and wait_for_port(host, webserver_port, 0.5):
                stack.say(
                    f"JobPing is up: the Dagster UI is on http://{host}:{webserver_port}, "
                    f"the web page and API on http://{host}:{api_port}"
                )
                announced = True
            time.sleep(0.5)
    finally:
        stack.stop()
    return stack.exit_status
