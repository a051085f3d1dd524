"""Launching one pair's scoring run through the Dagster webserver's GraphQL API
(jobping_dagster/api/dagster_runs.py): how failures are told apart, against a closed port
and a tiny HTTP server on 127.0.0.1, then one real run through a real webserver and daemon
on SQLite with the local scorer."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import dagster as dg
import pytest
import requests
import sqlalchemy as sa

from jobping_dagster.api.dagster_runs import (
    LaunchRefused,
    SchedulerUnreachable,
    launch_pair_run,
)
from jobping_dagster.db.engine import get_engine, migrate, utcnow
from jobping_dagster.db.schema import jobs, user_job_matches
from jobping_dagster.matching.cascade import PULLED
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.pull import record_pulled
from jobping_dagster.prod_local import Process, Stack, wait_for_port
from jobping_dagster.run_limits import MAX_RUNTIME_TAG, match_run_tags
from jobping_dagster.serve import command
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.dagster_graphql import (
    ADDED,
    LAUNCHED,
    Answer,
    TinyGraphQL,
    dagster,
    loaded,
)
from jobping_dagster_tests.stack import ROOT, free_port

# ---------------------------------------------------------------------------------------------
# Failures, fast


def test_a_closed_port_is_unreachable_at_once():
    port = free_port()  # bound and closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(SchedulerUnreachable, match="connection refused"):
        launch_pair_run(f"http://127.0.0.1:{port}/graphql", "u1-j2", "pull:x:u1-j2")
    assert time.monotonic() - started < 2


def test_a_launch_adds_the_partition_and_queues_match_job_with_the_sensors_tags():
    with TinyGraphQL(dagster(ADDED, LAUNCHED)) as server:
        run_id = launch_pair_run(server.url, "u7-j42", "pull:20260101T000000:u7-j42")
    assert run_id == "abc-123"
    assert server.operations() == ["AddPair", "LaunchPairRun"]
    add, launch = (request["variables"] for request in server.requests)
    repository = {"repositoryLocationName": "jobping", "repositoryName": "__repository__"}
    assert add == {
        "repositorySelector": repository,
        "partitionsDefName": "user_job_pairs",
        "partitionKey": "u7-j42",
    }
    params = launch["executionParams"]
    assert params["selector"] == {**repository, "jobName": "match_job"}
    assert {tag["key"]: tag["value"] for tag in params["executionMetadata"]["tags"]} == {
        "dagster/partition": "u7-j42",
        "dagster/run_key": "pull:20260101T000000:u7-j42",
        MAX_RUNTIME_TAG: match_run_tags(1)[MAX_RUNTIME_TAG],
    }


def test_a_partition_that_exists_already_is_fine():
    duplicate = {"__typename": "DuplicateDynamicPartitionError", "message": "exists"}
    with TinyGraphQL(dagster(duplicate, LAUNCHED)) as server:
        assert launch_pair_run(server.url, "u1-j2", "k") == "abc-123"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda body: (500, b"Internal Server Error"), id="500"),
        pytest.param(lambda body: (503, {"errors": [{"message": "busy"}]}), id="503"),
        pytest.param(lambda body: (429, b""), id="429"),
        pytest.param(
            dagster(
                {"__typename": "UnauthorizedError", "message": "no such partitions def"},
                location=loaded(status="LOADING"),
            ),
            id="location loading",
        ),  # fmt: skip
        pytest.param(
            dagster(
                ADDED,
                {"__typename": "PipelineNotFoundError", "message": "no match_job"},
                location=loaded(location="PythonError"),
            ),
            id="location failed to load",
        ),  # fmt: skip
    ],
)
def test_not_now_is_unreachable(answer):
    with TinyGraphQL(answer) as server, pytest.raises(SchedulerUnreachable):
        launch_pair_run(server.url, "u1-j2", "k")


@pytest.mark.parametrize(
    "answer, reason",
    [
        pytest.param(
            lambda body: (400, {"errors": [{"message": 'Unknown argument "jobName"'}]}),
            "rejected the request: Unknown argument",
            id="GraphQL error",
        ),
        pytest.param(
            dagster(ADDED, {"__typename": "PipelineNotFoundError", "message": "no match_job"}),
            "launching match_job was refused .*PipelineNotFoundError: no match_job",
            id="unknown job",
        ),
        pytest.param(
            dagster({"__typename": "UnauthorizedError", "message": "no such partitions def"}),
            "adding the pair's partition was refused .*UnauthorizedError",
            id="unknown partitions",
        ),
        pytest.param(
            dagster(ADDED, {"__typename": "PythonError", "message": "boom " * 200}),
            "PythonError: boom",
            id="error inside Dagster",
        ),
        pytest.param(
            dagster(
                ADDED,
                {"__typename": "RunConfigValidationInvalid", "errors": [{"message": "bad config"}]},
            ),
            "RunConfigValidationInvalid: bad config",
            id="run config",
        ),  # fmt: skip
        pytest.param(lambda body: (200, b"<html>hi</html>"), "without a GraphQL result", id="html"),
        pytest.param(lambda body: (404, b"Not Found"), "HTTP 404", id="404"),
    ],
)
def test_an_answered_no_is_refused(answer, reason):
    with TinyGraphQL(answer) as server, pytest.raises(LaunchRefused, match=reason) as raised:
        launch_pair_run(server.url, "u1-j2", "k")
    assert len(str(raised.value)) < 500


def test_a_slow_webserver_times_out_as_unreachable():
    def slow(body: dict) -> Answer:
        time.sleep(3)
        return 200, {"data": {"addDynamicPartition": ADDED}}

    with TinyGraphQL(slow) as server:
        started = time.monotonic()
        with pytest.raises(SchedulerUnreachable, match="did not answer in time"):
            launch_pair_run(server.url, "u1-j2", "k", timeout=0.5)
        assert time.monotonic() - started < 2


def test_messages_hold_no_credentials_of_the_url():
    port = free_port()
    with pytest.raises(SchedulerUnreachable) as raised:
        launch_pair_run(f"http://jobping:s3cret@127.0.0.1:{port}/graphql", "u1-j2", "k")
    assert "s3cret" not in str(raised.value) and f"127.0.0.1:{port}" in str(raised.value)
    refusal = dagster(ADDED, {"__typename": "PipelineNotFoundError", "message": "no"})
    with TinyGraphQL(refusal) as server, pytest.raises(LaunchRefused) as raised:
        launch_pair_run(server.url.replace("//", "//jobping:s3cret@"), "u1-j2", "k")
    assert "s3cret" not in str(raised.value)


def test_a_malformed_key_is_refused_before_any_request():
    with TinyGraphQL(dagster(ADDED, LAUNCHED)) as server, pytest.raises(ValueError):
        launch_pair_run(server.url, "user1-job2", "k")
    assert server.requests == []


# ---------------------------------------------------------------------------------------------
# One real run: dagster-webserver and dagster-daemon on SQLite, the local scorer

START_SECONDS = 120
SCORED_SECONDS = 240
LOCATION_QUERY = """
query { workspaceLocationEntryOrError(name: "jobping") {
  ... on WorkspaceLocationEntry { loadStatus locationOrLoadError { __typename } } } }
"""


def location_loaded(url: str) -> bool:
    with contextlib.suppress(requests.RequestException, ValueError, KeyError, TypeError):
        entry = requests.post(url, json={"query": LOCATION_QUERY}, timeout=10).json()["data"][
            "workspaceLocationEntryOrError"
        ]
        return entry["loadStatus"] == "LOADED" and (
            entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
        )
    return False


def logs(processes: list[Process]) -> str:
    return "\n".join(
        f"--- {p.role}\n{p.log_path.read_text(errors='replace')[-2500:]}"
        for p in processes
        if p.log_path.exists()
    )


@pytest.fixture
def dagster_stack(tmp_path):
    """The app database with one user and one researched posting, and a webserver and a
    daemon on a fresh SQLite Dagster instance; (settings, app engine, processes)."""
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    home = tmp_path / "jobping"
    home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JOBPING_", "DAGSTER_", "OPENAI_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DAGSTER_HOME=str(dagster_home),
        JOBPING_HOME=str(home),
        JOBPING_LLM="local",
        JOBPING_JOB_SOURCE="sample",
        # Nothing but the launch: no scrape, and the sensors tick once, at start.
        JOBPING_SCRAPE_CRON="0 0 1 1 *",
        JOBPING_SENSOR_INTERVAL_SECONDS="3600",
    )
    # The instance's SQLite databases, created before two processes race to create them.
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.get_runs(limit=1)
    engine = get_engine(f"sqlite:///{home / 'jobping.db'}")
    migrate(engine)
    port = free_port()
    workspace = str(ROOT / "workspace.yaml")
    processes = [
        Process(role, command(role, "127.0.0.1", port, workspace),
                tmp_path / f"{role}.log", tmp_path / f"{role}.pid")
        for role in ("webserver", "daemon")
    ]  # fmt: skip
    stack = Stack(processes, env, say=lambda line: None)
    try:
        stack.start()
        yield f"http://127.0.0.1:{port}/graphql", engine, dagster_home, processes
    finally:
        stack.stop()
        engine.dispose()
        get_engine.cache_clear()


def wait_for(what: str, done: Callable[[], object], seconds: float, processes) -> object:
    deadline = time.monotonic() + seconds
    while not (result := done()):
        for process in processes:
            if process.popen.poll() is not None:
                pytest.fail(f"{process.role} exited while waiting for {what}\n{logs(processes)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {seconds} s\n{logs(processes)}")
        time.sleep(1)
    return result


@pytest.mark.e2e
def test_a_launched_pair_is_scored_by_a_real_webserver_and_daemon(dagster_stack):
    url, engine, dagster_home, processes = dagster_stack
    now = utcnow()
    user_id = user(engine, "seeker@example.com", "Backend services in Python")
    store_postings(engine, [posting(1, company="Acme")], now)
    research(engine, "acme", now)
    with engine.connect() as conn:
        job_id = conn.execute(sa.select(jobs.c.id)).scalar_one()
    key = pair_key(user_id, job_id)
    run_key = f"pull:{now:%Y%m%dT%H%M%S}:{key}"

    started = time.monotonic()
    assert wait_for_port("127.0.0.1", urlsplit(url).port, START_SECONDS), logs(processes)
    wait_for("loaded code location", lambda: location_loaded(url), START_SECONDS, processes)
    loaded_after = time.monotonic() - started
    with engine.begin() as conn:
        record_pulled(conn, [(user_id, job_id)], PULLED, run_key, now)
    run_id = launch_pair_run(url, key, run_key, timeout=30)

    def scored():
        with engine.connect() as conn:
            return conn.execute(
                sa.select(user_job_matches.c.score).where(user_job_matches.c.partition_key == key)
            ).first()

    wait_for("score for the pair", scored, SCORED_SECONDS, processes)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        run = wait_for(
            "ended run",
            lambda: (r := instance.get_run_by_id(run_id)) and r.is_finished and r,
            60,
            processes,
        )
        assert run.job_name == "match_job"
        assert run.status == dg.DagsterRunStatus.SUCCESS, logs(processes)
        assert run.tags["dagster/partition"] == key
        assert run.tags["dagster/run_key"] == run_key
        assert run.tags[MAX_RUNTIME_TAG] == match_run_tags(1)[MAX_RUNTIME_TAG]
        # Launching again is fine: the partition is there already.
        assert launch_pair_run(url, key, run_key + ":again", timeout=30) != run_id
    finally:
        instance.dispose()
    print(
        f"\nlocation loaded after {loaded_after:.0f} s; "
        f"launch to end of run {time.monotonic() - started - loaded_after:.0f} s"
    )
