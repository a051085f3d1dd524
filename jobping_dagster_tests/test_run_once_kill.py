"""`jobping run-once` killed in the middle of a match run: the run used to stay STARTED for
ever in the embedded default and its pairs counted as busy, so no later pass scored them.
The next pass now fails the dead pass's runs and scores their pairs."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine
from jobping_dagster.db.schema import match_candidates, user_job_matches
from jobping_dagster.partition_status import ACTIVE_RUN_STATUSES
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI, slow

JOBPING = str(Path(sys.executable).parent / "jobping")
DEADLINE_SECONDS = 180


def _run_once(env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [JOBPING, "run-once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen
    )


def _started_match_run(home: Path) -> str | None:
    """The id of a STARTED match run, read straight from the run database (read-only)."""
    runs_db = home / "dagster" / "history" / "runs.db"
    if not runs_db.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{runs_db}?mode=ro", uri=True, timeout=5)) as conn:
            row = conn.execute(
                "SELECT run_id FROM runs WHERE pipeline_name = 'match_job' AND status = 'STARTED'"
            ).fetchone()
    except sqlite3.OperationalError:  # the table is not created yet
        return None
    return row[0] if row else None


def test_a_killed_run_once_leaves_no_stranded_run_or_pair(tmp_path):
    home = tmp_path / "jobping"
    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    with FakeOpenAI() as openai:
        env = {
            **os.environ,
            "JOBPING_HOME": str(home),
            "JOBPING_DATABASE_URL": db_url,
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            "OPENAI_BASE_URL": openai.base_url,
        }
        env.pop("DAGSTER_HOME", None)
        openai.enqueue(slow(1.0), times=2000)  # every answer takes a second: runs last
        first = _run_once(env)
        deadline = time.monotonic() + DEADLINE_SECONDS
        try:
            while (killed := _started_match_run(home)) is None:
                assert first.poll() is None, first.stdout.read().decode()
                assert time.monotonic() < deadline, "no match run started"
                time.sleep(0.2)
            time.sleep(0.5)  # a few pairs in flight (each answer takes a second)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        # Opened only now: a second process opening the instance while run-once creates it
        # would race Dagster's schema stamping (CI saw "more than one head").
        instance = dg.DagsterInstance.from_config(str(home / "dagster"))
        stuck = instance.get_runs(dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES))
        assert killed in {run.run_id for run in stuck}, first.stdout.read().decode()

        openai.reset()  # the outage of patience is over: answers are quick again
        second = _run_once(env)
        output, _ = second.communicate(timeout=DEADLINE_SECONDS)
        text = output.decode()

    assert second.returncode == 0, text
    assert "1 run of an earlier pass that was killed marked failed" in text
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_runs(dg.RunsFilter(statuses=ACTIVE_RUN_STATUSES)) == []
    engine = get_engine(db_url)
    with engine.connect() as conn:
        chosen = set(conn.execute(sa.select(match_candidates.c.user_id, match_candidates.c.job_id)))
        scored = set(conn.execute(sa.select(user_job_matches.c.user_id, user_job_matches.c.job_id)))
    assert chosen and chosen == scored
    instance.dispose()


def test_processes_opening_a_fresh_home_at_once_leave_it_usable(tmp_path):
    # Without the lock, four first opens at once left two schema rows in 2 of 3 tries
    # and every later open failed with "more than one head".
    opener = (
        "from jobping_dagster.cli.context import dagster_instance\n"
        "from jobping_dagster.settings import Settings\n"
        "dagster_instance(Settings.from_env()).dispose()\n"
    )
    env = {**os.environ, "JOBPING_HOME": str(tmp_path / "jobping")}
    env.pop("DAGSTER_HOME", None)
    openers = [
        subprocess.Popen([sys.executable, "-c", opener], env=env, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [proc.communicate(timeout=DEADLINE_SECONDS)[1].decode() for proc in openers]
    assert [proc.returncode for proc in openers] == [0, 0, 0, 0], errors
    runs_db = tmp_path / "jobping" / "dagster" / "history" / "runs.db"
    with closing(sqlite3.connect(runs_db)) as conn:
        assert len(conn.execute("SELECT * FROM alembic_version").fetchall()) == 1
