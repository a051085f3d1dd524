"""Faults of the run machinery on the production processes (`jobping prod-local` through
`stack.py`): a run worker that hangs while it holds the `openai` pool slot, the daemon down
while hundreds of matches are materialized, and a burst of 1,000 pairs through the daemon.

The subject is the run machinery, not the pre-filter: the tests write users, postings with
fresh company research and the chosen pairs (`match_candidates`) straight into the app
database, and the real fan-out sensor, run queue, run workers, notification sensor and drain
take it from there. Every wait has a bound and fails with a snapshot of the stack.
`benchmarks/burst.py` reuses the seeding helpers below."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.events import DagsterEventType
from dagster._grpc.__generated__ import dagster_api_pb2
from dagster._grpc.server import DagsterApiServer
from dagster._grpc.types import (
    CanCancelExecutionRequest,
    CanCancelExecutionResult,
    CancelExecutionRequest,
    CancelExecutionResult,
)
from dagster._serdes import deserialize_value, serialize_value

from jobping_dagster import code_server
from jobping_dagster.companies.store import save_company_info
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import (
    jobs,
    match_candidates,
    notifications,
    user_job_matches,
    users,
)
from jobping_dagster.db.sql import chunks
from jobping_dagster.llm.models import CompanyProfile
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.postings.store import upsert_postings
from jobping_dagster.prod_local import wait_for_port
from jobping_dagster.run_limits import MAX_RUNTIME_TAG
from jobping_dagster_tests.builders import posting
from jobping_dagster_tests.fakes.openai_server import default_score, job_title, slow, user_wishes
from jobping_dagster_tests.stack import ROOT, Stack, running_stack

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

DAGSTER = str(Path(sys.executable).parent / "dagster")
MATCH_JOB = "match_job"
# Each wait below normally ends well within its bound on a loaded 2-core machine; with
# other heavy work on it (load 10+), a launched run takes a minute or more to start.
RUNS_APPEAR_SECONDS = 150
SETTLE_SECONDS = 420
# Run monitoring polls every 30 s (deploy/dagster.yaml): a run past its max runtime is
# failed within one poll, plus the poll's own time on a busy machine.
MONITORING_GRACE_SECONDS = 120


# ---------------------------------------------------------------------------------------------
# Seeding the app database (also used by benchmarks/burst.py)

COMPANY_PROFILE = CompanyProfile(
    summary="Burst Co builds software (test research).",
    industry="Software",
    size=None,
    headquarters=None,
    website=None,
    culture=[],
    red_flags=[],
)


def add_users(stack: Stack, prompts: dict[str, str]) -> dict[str, int]:
    """Users with their own fake Discord webhook each: email -> id."""
    stack.add_users(prompts)
    with stack.app_engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.email, users.c.id)).all()
    return {email: user_id for email, user_id in rows if email in prompts}


def add_jobs(engine: sa.Engine, titles: list[str], company: str = "Burst Co") -> list[int]:
    """Postings of one company whose research is fresh (so the fan-out takes their pairs
    and no research run starts), in one transaction; their ids, in order. Each title gets
    the posting's number appended, so every title is distinct."""
    now = utcnow()
    key = company.lower().replace(" ", "-")
    with engine.begin() as conn:
        first = 1 + (conn.execute(sa.select(sa.func.max(jobs.c.id))).scalar_one() or 0)
        postings = [
            posting(first + offset, company=company, title=title)
            for offset, title in enumerate(titles)
        ]
        upsert_postings(conn, postings, day=now.date(), now=now)
        save_company_info(conn, key, COMPANY_PROFILE, model="test", now=now)
        by_source = dict(
            conn.execute(
                sa.select(jobs.c.source_id, jobs.c.id).where(
                    jobs.c.source_id.in_([p.source_id for p in postings])
                )
            ).all()
        )
    return [by_source[p.source_id] for p in postings]


def choose(engine: sa.Engine, pairs: list[tuple[int, int]]) -> None:
    """What candidate selection stores for pairs it keeps: the fan-out's input."""
    now = utcnow()
    with engine.begin() as conn:
        prompts = dict(conn.execute(sa.select(users.c.id, users.c.prompt)).all())
        for part in chunks(pairs, 500):
            conn.execute(
                match_candidates.insert(),
                [
                    {
                        "user_id": user_id,
                        "job_id": job_id,
                        "day": now.date(),
                        "decision": "kept",
                        "relevance": 0.5,
                        "weight": 1.0,
                        "prompt_hash": prompt_hash(prompts[user_id]),
                        "created_at": now,
                    }
                    for user_id, job_id in part
                ],
            )


@dataclass
class Burst:
    users: dict[str, int]
    jobs: list[int]
    pairs: list[tuple[int, int]]


# Prompt words the fake scorer finds in titles (85) or not (30). Users alternate between the
# prompts, postings between the titles: about 40% of the pairs are high scores.
BURST_PROMPTS = ("Python services", "Rust systems", "Data platforms")
BURST_TITLES = ("Python Engineer", "Rust Developer", "Data Engineer", "Java Developer", "QA Lead")


def seed_burst(stack: Stack, n_users: int, jobs_per_user: int) -> Burst:
    """n_users x jobs_per_user pairs, every user paired with every posting. Each user has
    their own webhook, so Discord's rate limit (per webhook) paces nobody much."""
    prompts = {
        f"burst{n:05d}@example.com": f"{BURST_PROMPTS[n % len(BURST_PROMPTS)]} (u{n:05d})"
        for n in range(n_users)
    }
    user_ids = add_users(stack, prompts)
    titles = [BURST_TITLES[n % len(BURST_TITLES)] for n in range(jobs_per_user)]
    job_ids = add_jobs(stack.app_engine, titles)
    pairs = [(user_id, job_id) for user_id in sorted(user_ids.values()) for job_id in job_ids]
    return Burst(user_ids, job_ids, pairs)


class CountingScorer:
    """The fake OpenAI's score function, counting scoring calls per (wishes, title): a pair
    scored twice shows up here even when the database hides it. Optionally holds every call
    until `release()` (each call at most `hold_seconds`, well inside the SDK's timeout)."""

    def __init__(self, hold_seconds: float = 0.0):
        self.calls: Counter = Counter()
        self.held_too_long = 0
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._hold_seconds = hold_seconds
        if not hold_seconds:
            self._released.set()

    def release(self) -> None:
        self._released.set()

    def __call__(self, body) -> int:
        with self._lock:
            self.calls[(user_wishes(body), job_title(body))] += 1
        if not self._released.wait(self._hold_seconds):
            with self._lock:
                self.held_too_long += 1
        return default_score(body)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.calls.values())


# ---------------------------------------------------------------------------------------------
# What a test sees of the stack


def set_pool(stack: Stack, limit: int) -> None:
    """What an operator does to throttle OpenAI: `limit` scoring or research runs at once."""
    subprocess.run(
        [DAGSTER, "instance", "concurrency", "set", "openai", str(limit)],
        env=stack.env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def start(stack: Stack, timeout: float = 240) -> None:
    """Stack.start with a longer bound for the webserver's port (a minute there): on a
    machine under other heavy work the three processes take longer to come up."""
    with stack.output.open("wb") as out:
        stack.supervisor = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jobping"), "prod-local",
                "--run-dir", str(stack.run_dir),
                "--code-server-port", str(stack.code_server_port),
                "--webserver-port", str(stack.webserver_port),
            ],
            cwd=ROOT, env=stack.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    stack.instance = dg.DagsterInstance.from_config(stack.env["DAGSTER_HOME"])
    assert wait_for_port("127.0.0.1", stack.webserver_port, timeout), stack.supervisor_output()


def wait_for(stack: Stack, what: str, condition: Callable, timeout: float, every: float = 1.0):
    """condition()'s first truthy value; fails with a snapshot after `timeout` seconds (or
    at the test's deadline)."""
    started = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        if stack.supervisor is not None and stack.supervisor.poll() is not None:
            pytest.fail(f"{what}: the stack stopped\n{stack.supervisor_output()[-3000:]}")
        waited = time.monotonic() - started
        if waited > timeout or time.monotonic() > stack.deadline:
            pytest.fail(f"{what}: not after {waited:.0f} s\n{stack.snapshot()}")
        time.sleep(every)


def wait_settled(stack: Stack, phase: str, timeout: float = SETTLE_SECONDS) -> float:
    started = time.monotonic()
    wait_for(stack, f"{phase}: settled", stack.settled, timeout, every=2.0)
    return time.monotonic() - started


def match_runs(stack: Stack) -> list[dg.DagsterRun]:
    return list(stack.instance.get_runs(dg.RunsFilter(job_name=MATCH_JOB)))


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The run worker's pid, from the engine event the code server writes when it starts
    the worker ("Started process for run (pid: N)."): daemon-launched runs carry no tag
    naming it, and the worker's command line does not name its run."""
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        found = re.search(r"Started process for run \(pid: (\d+)\)", event.message or "")
        if found:
            return int(found.group(1))
    return None


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, ...]."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_tree(pid: int) -> list[int]:
    """pid and all its descendants (children first found by scanning /proc)."""
    children = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))):
            children[int(stat[1])].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def alive(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def stopped(pid: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[0] in ("T", "t")


def signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)


def scoring_requests(stack: Stack) -> int:
    return sum(
        1
        for request in stack.openai.requests
        if ((request.body or {}).get("response_format") or {}).get("json_schema", {}).get("name")
        == "MatchAnalysis"
    )


def materializations_by_partition(instance: dg.DagsterInstance) -> Counter:
    counts: Counter = Counter()
    cursor = None
    while True:
        result = instance.fetch_materializations(
            dg.AssetKey("user_job_matches"), limit=1000, cursor=cursor, ascending=True
        )
        counts.update(record.partition_key for record in result.records)
        if not result.has_more:
            return counts
        cursor = result.cursor


def app_counts(stack: Stack) -> tuple[int, Counter]:
    """(rows of user_job_matches, notifications by status)."""
    with stack.app_engine.connect() as conn:
        matches = conn.execute(sa.select(sa.func.count()).select_from(user_job_matches))
        statuses = Counter(conn.execute(sa.select(notifications.c.status)).scalars())
        return matches.scalar_one(), statuses


def assert_delivered_once(stack: Stack, allowed_failures: set[str] = frozenset()) -> None:
    """stack.assert_settled_state, except that the runs in `allowed_failures` (the fault's
    own victims) may have failed."""
    expected, delivered = stack.expected(), stack.delivered()
    assert expected, "the prompts should produce high-score matches"
    assert delivered == expected, stack.snapshot()
    assert max(delivered.values()) == 1
    _, statuses = app_counts(stack)
    assert statuses == Counter({"sent": sum(expected.values())})
    assert stack.active_runs() == []
    failed = stack.instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    assert {run.run_id for run in failed} <= set(allowed_failures), [
        (run.job_name, run.run_id) for run in failed
    ]
    stack.assert_cursors_caught_up()


def assert_each_pair_scored_once(stack: Stack, pairs: list[tuple[int, int]], scorer) -> None:
    """One row and one materialization per pair, and (scorer given) one OpenAI call each."""
    with stack.app_engine.connect() as conn:
        rows = Counter(
            conn.execute(sa.select(user_job_matches.c.user_id, user_job_matches.c.job_id)).all()
        )
    assert set(rows) == set(pairs) and max(rows.values()) == 1
    materialized = materializations_by_partition(stack.instance)
    assert set(materialized) == {pair_key(*pair) for pair in pairs}
    doubled = {key: n for key, n in materialized.items() if n > 1}
    assert doubled == {}, f"pairs materialized more than once: {list(doubled.items())[:10]}"
    if scorer is not None:
        assert scorer.total == len(pairs), f"{scorer.total} scoring calls for {len(pairs)} pairs"
        assert len(scorer.calls) == len(pairs) and max(scorer.calls.values()) == 1


@pytest.fixture
def stack(pg_admin_engine, tmp_path, monkeypatch):
    with running_stack(pg_admin_engine, tmp_path, monkeypatch) as under_test:
        yield under_test


# ---------------------------------------------------------------------------------------------
# 1. A hung run worker holding the `openai` pool slot


def _wait_on(event) -> None:
    event.wait()  # what a run worker's termination thread does


def test_ending_a_run_whose_worker_is_frozen_does_not_hang_the_code_server():
    """The code server's CancelExecution (run monitoring at max runtime, Terminate in the
    UI) against a worker that waits on the run's event and is frozen: Dagster's own handler
    never returns (`Event.set()` waits for the frozen waiter, under the lock every run start
    takes); the installed one answers at once and sets the event once the worker runs."""
    code_server.install()
    context = multiprocessing.get_context("spawn")  # as the code server starts workers
    event = context.Event()
    worker = context.Process(target=_wait_on, args=(event,), daemon=True)
    worker.start()
    server = type("Server", (), {})()  # the state the handlers use, as DagsterApiServer has
    server._execution_lock = threading.Lock()
    server._executions = {"run-1": (worker, None)}
    server._termination_events = {"run-1": event}
    server._termination_times = {}
    try:
        # Frozen while it sleeps on the event, as a stopped worker's termination thread.
        deadline = time.monotonic() + 60
        while event._cond._sleeping_count._semlock._get_value() < 1:
            assert time.monotonic() < deadline, "the worker never waited on the event"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGSTOP)
        answers = []

        def cancel_then_ask():
            request = CancelExecutionRequest(run_id="run-1")
            reply = DagsterApiServer.CancelExecution(
                server,
                dagster_api_pb2.CancelExecutionRequest(
                    serialized_cancel_execution_request=serialize_value(request)
                ),
                None,
            )
            answers.append(
                deserialize_value(reply.serialized_cancel_execution_result, CancelExecutionResult)
            )
            reply = DagsterApiServer.CanCancelExecution(
                server,
                dagster_api_pb2.CanCancelExecutionRequest(
                    serialized_can_cancel_execution_request=serialize_value(
                        CanCancelExecutionRequest(run_id="run-1")
                    )
                ),
                None,
            )
            answers.append(
                deserialize_value(
                    reply.serialized_can_cancel_execution_result, CanCancelExecutionResult
                )
            )

        caller = threading.Thread(target=cancel_then_ask, daemon=True)
        caller.start()
        caller.join(timeout=60)  # a bound, not a speed figure: unpatched, it never returns
        assert not caller.is_alive(), "CancelExecution hung on the frozen worker"
        assert answers[0].success and not answers[1].can_cancel
        assert server._execution_lock.acquire(timeout=60), "the run lock is still held"
        server._execution_lock.release()
        # Thawed, the worker sees the event and ends.
        os.kill(worker.pid, signal.SIGCONT)
        worker.join(timeout=60)
        assert worker.exitcode == 0 and event.is_set()
    finally:
        if worker.is_alive():
            worker.kill()
            os.kill(worker.pid, signal.SIGCONT)
            worker.join(timeout=10)


def test_hung_match_worker_is_failed_at_its_max_runtime_and_the_queued_work_completes(stack):
    """With the `openai` pool at 1, the run worker scoring the first batch is frozen
    (SIGSTOP of its whole process tree: it can neither answer nor handle SIGTERM) while its
    four LLM calls are in flight, and a second batch queues behind it. Run monitoring must
    fail the frozen run at its `dagster/max_runtime` (120 s + 3 s a pair), which frees the
    pool slot; the second batch runs, the frozen batch's pairs are scored again (run
    retries or the fan-out's send-back), and every high score arrives once. Resumed
    afterwards, the stale worker must not double anything."""
    stack.deadline = time.monotonic() + 900
    set_pool(stack, 1)
    user_ids = add_users(
        stack,
        {
            "hung-python@example.com": "Python services",
            "hung-rust@example.com": "Rust systems",
            "queued-data@example.com": "Data platforms",
            "queued-java@example.com": "Java backends",
        },
    )
    job_ids = add_jobs(
        stack.app_engine, ["Python Engineer", "Rust Developer", "Data Engineer", "Java Developer"]
    )
    first = [(user_ids[email], job) for email in list(user_ids)[:2] for job in job_ids[:2]]
    second = [(user_ids[email], job) for email in list(user_ids)[2:] for job in job_ids]
    start(stack)
    # The first batch's four calls (JOBPING_LLM_CONCURRENCY) hang at the fake for 25 s, so
    # the worker is frozen inside its LLM step, with no database transaction open.
    stack.openai.enqueue(slow(25), times=len(first))
    choose(stack.app_engine, first)
    hung = wait_for(
        stack,
        "the first match run scoring its pairs",
        lambda: (
            scoring_requests(stack) >= len(first)
            and next((r for r in match_runs(stack) if r.status.value == "STARTED"), None)
        ),
        RUNS_APPEAR_SECONDS,
        every=0.2,
    )
    pid = worker_pid(stack.instance, hung.run_id)
    code_server_tree = process_tree(stack.pid("code-server"))
    assert pid in code_server_tree, (pid, code_server_tree)
    frozen = process_tree(pid)  # the run worker and its step process
    assert len(frozen) >= 2, frozen
    signal_all(frozen, signal.SIGSTOP)
    frozen_at = time.monotonic()
    try:
        wait_for(stack, "the worker stopped", lambda: all(stopped(p) for p in frozen), 10)
        max_runtime = int(hung.tags[MAX_RUNTIME_TAG])
        assert max_runtime == 120 + 3 * len(first)
        choose(stack.app_engine, second)
        queued = wait_for(
            stack,
            "the second batch queued behind the frozen run",
            lambda: next((r for r in match_runs(stack) if r.run_id != hung.run_id), None),
            RUNS_APPEAR_SECONDS,
        )

        # Run monitoring fails the frozen run once it passes its max runtime.
        def hung_run_ended():
            run = stack.instance.get_run_by_id(hung.run_id)
            return run if run.is_finished else None

        ended = wait_for(
            stack,
            "run monitoring failing the frozen run",
            hung_run_ended,
            max_runtime + MONITORING_GRACE_SECONDS,
            every=2.0,
        )
        failed_after = time.monotonic() - frozen_at
        assert ended.status == dg.DagsterRunStatus.FAILURE
        assert all(stopped(p) for p in frozen), (
            "the frozen worker should still be frozen: only run monitoring ended its run"
        )
        messages = [
            entry.dagster_event.message or ""
            for entry in stack.instance.all_logs(hung.run_id)
            if entry.dagster_event
        ]
        assert any("maximum runtime" in message for message in messages), messages[-5:]

        settle_seconds = wait_settled(stack, "after the frozen run was failed")
        assert_delivered_once(stack, allowed_failures={hung.run_id})
        # The pool held: the queued batch started only after the frozen run was failed.
        assert stack.max_concurrent({MATCH_JOB}) == 1
        queued_record = stack.instance.get_run_record_by_id(queued.run_id)
        ended_record = stack.instance.get_run_record_by_id(hung.run_id)
        assert queued_record.start_time >= ended_record.end_time
        runs = stack.runs_by_key_prefix()
        retries = [r for r in match_runs(stack) if r.tags.get("dagster/parent_run_id")]
        assert_each_pair_scored_once(stack, first + second, scorer=None)

        # The stale worker resumes (a frozen VM thawing): it may finish its calls and write
        # its pairs again, but nothing is notified twice.
        signal_all(frozen, signal.SIGCONT)
        resumed = time.monotonic()
        while any(alive(p) for p in frozen) and time.monotonic() - resumed < 30:
            time.sleep(1)
        exited = not any(alive(p) for p in frozen)
        wait_settled(stack, "after the stale worker resumed", timeout=180)
        assert_delivered_once(stack, allowed_failures={hung.run_id})
    finally:
        signal_all(frozen, signal.SIGKILL)
        signal_all(frozen, signal.SIGCONT)
    print(
        f"\nhung worker: run failed {failed_after:.0f} s after the freeze (max runtime "
        f"{max_runtime} s); settled {settle_seconds:.0f} s later; runs {dict(runs)}, "
        f"{len(retries)} run retries; stale worker exited by itself after SIGCONT: {exited}"
    )


# ---------------------------------------------------------------------------------------------
# 2. The daemon down while 300 matches are materialized


def test_daemon_down_while_300_matches_are_materialized_notifies_each_once_when_back(stack):
    """Three match runs of 100 pairs are launched; the daemon is then SIGKILLed and kept
    down (its supervisor paused) while the runs score and materialize all 300 pairs. No
    sensor runs meanwhile, so nothing is notified. When the daemon is back, the notification
    sensor reads every materialization after its cursor: every high score arrives once."""
    stack.deadline = time.monotonic() + 600
    set_pool(stack, 3)  # all three runs in flight at once
    scorer = CountingScorer(hold_seconds=40)
    stack.openai.score_fn = scorer
    burst = seed_burst(stack, n_users=100, jobs_per_user=3)
    start(stack)
    # After the fan-out's first tick (at most 200 pairs), one tick takes all 300: three runs.
    wait_for(
        stack,
        "the fan-out sensor's first tick",
        lambda: stack.sensors().get("match_fan_out_sensor", (None,))[0],
        RUNS_APPEAR_SECONDS,
    )
    choose(stack.app_engine, burst.pairs)
    # STARTED, not STARTING: the worker reports it itself, so the daemon's launch is done.
    launched = {"STARTED", "SUCCESS", "FAILURE", "CANCELED"}
    wait_for(
        stack,
        "three match runs launched",
        lambda: (
            len(runs := match_runs(stack)) == 3 and all(r.status.value in launched for r in runs)
        ),
        RUNS_APPEAR_SECONDS,
        every=0.5,
    )
    daemon_pid = stack.pid("daemon")
    os.kill(stack.supervisor.pid, signal.SIGSTOP)
    try:
        os.killpg(daemon_pid, signal.SIGKILL)
        wait_for(stack, "the daemon dead", lambda: not alive(daemon_pid), 30)
        down_at = time.monotonic()
        scorer.release()
        wait_for(
            stack,
            "300 matches materialized with the daemon down",
            lambda: all(r.status == dg.DagsterRunStatus.SUCCESS for r in match_runs(stack)),
            SETTLE_SECONDS,
            every=2.0,
        )
        down_seconds = time.monotonic() - down_at
        materialized = sum(materializations_by_partition(stack.instance).values())
        assert materialized == len(burst.pairs)
        matches, statuses = app_counts(stack)
        assert matches == len(burst.pairs)
        if scorer.held_too_long == 0:
            # No match existed before the daemon died and no sensor ran since: none sent.
            assert stack.discord.requests == []
            assert set(statuses) == {"pending"}
        sent_while_down = len(stack.discord.requests)
    finally:
        os.kill(stack.supervisor.pid, signal.SIGCONT)
    back_at = time.monotonic()
    wait_settled(stack, "after the daemon came back")
    assert_delivered_once(stack)
    assert_each_pair_scored_once(stack, burst.pairs, scorer)
    assert stack.pid("daemon") != daemon_pid
    assert f"daemon (pid {daemon_pid}) exited with signal 9" in stack.supervisor_output()
    latency = max(request.time for request in stack.discord.requests) - back_at
    messages = sum(stack.expected().values())
    print(
        f"\ndaemon down {down_seconds:.0f} s while {materialized} matches were materialized "
        f"({sent_while_down} sent meanwhile; {scorer.held_too_long} scoring calls released "
        f"before the daemon died); daemon back -> last of {messages} deliveries: "
        f"{latency:.1f} s; runs {dict(stack.runs_by_key_prefix())}"
    )


# ---------------------------------------------------------------------------------------------
# 3. A burst of 1,000 pairs through the daemon


def test_burst_of_1000_pairs_is_scored_exactly_once_with_no_run_left_behind(stack):
    """1,000 chosen pairs at once (100 users x 10 postings) with the production pool (2
    scoring runs at once): the fan-out's first tick takes 200, later ticks fill up to 8
    active match runs (backpressure) until all are requested. Every pair is scored by
    exactly one OpenAI call and materialized once; no run is stuck or failed; every high
    score arrives once."""
    stack.deadline = time.monotonic() + 1200
    scorer = CountingScorer()
    stack.openai.score_fn = scorer
    burst = seed_burst(stack, n_users=100, jobs_per_user=10)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    start(stack)
    started = time.monotonic()
    choose(stack.app_engine, burst.pairs)
    wait_for(
        stack,
        "1,000 pairs scored",
        lambda: app_counts(stack)[0] == len(burst.pairs),
        900,
        every=2.0,
    )
    scored_seconds = time.monotonic() - started
    wait_settled(stack, "after the burst")
    settled_seconds = time.monotonic() - started
    assert_delivered_once(stack)
    assert_each_pair_scored_once(stack, burst.pairs, scorer)
    runs = stack.runs_by_job()
    assert runs[MATCH_JOB] == len(burst.pairs) // 100  # full batches, none repeated
    peak = stack.max_concurrent({MATCH_JOB})
    assert peak <= 2  # the production pool
    messages = sum(stack.expected().values())
    stack.stop()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    stack_cpu = (cpu.ru_utime + cpu.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    test_cpu = (me.ru_utime + me.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    print(
        f"\nburst of {len(burst.pairs)} pairs: all scored {scored_seconds:.0f} s after they "
        f"were chosen, settled ({messages} messages) at {settled_seconds:.0f} s; runs "
        f"{dict(runs)}, at most {peak} match runs at once; stack CPU {stack_cpu:.0f} s = "
        f"{stack_cpu / len(burst.pairs) * 1000:.0f} ms a pair (test process and fakes "
        f"{test_cpu:.0f} s)"
    )
