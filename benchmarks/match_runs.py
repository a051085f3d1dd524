"""Time per user x job pair in batched match runs, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/match_runs.py

Runs the whole flow once (sample source, local scorer) on a fresh app database of each kind
with an ephemeral Dagster instance, and prints the wall time of the match runs per pair.
The SQLite figure is the baseline of the ratio. Needs PostgreSQL on 127.0.0.1:5432."""

import os
import sys
import tempfile
import uuid
import warnings

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.schema import user_job_matches
from jobping_dagster.definitions import build_definitions
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster.users.store import UserChanges, add_user

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
PROMPTS = [
    "Senior backend engineer, Python or Go, remote",
    "Data engineer: SQL, dbt, Airflow, Spark",
    "Frontend developer, React, TypeScript",
    "Machine learning engineer, PyTorch, MLOps",
]


def measure(url: str, home: str) -> tuple[int, float, int]:
    engine = get_engine(url)
    with engine.begin() as conn:
        for n, prompt in enumerate(PROMPTS):
            add_user(conn, f"user{n}@example.com", UserChanges(prompt=prompt))
    settings = Settings.from_env({"JOBPING_HOME": home, "JOBPING_DATABASE_URL": url})
    os.environ["JOBPING_DATABASE_URL"] = url
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_once(
            build_definitions(settings),
            instance,
            utcnow().date(),
            on_step=lambda _: None,
            log_level="ERROR",
        )
    with engine.connect() as conn:
        pairs = conn.execute(sa.select(sa.func.count()).select_from(user_job_matches)).scalar_one()
    engine.dispose()
    return pairs, report.seconds["match_job"], report.runs["match_job"]


def main() -> int:
    warnings.simplefilter("ignore")
    results = {}
    with tempfile.TemporaryDirectory() as home:
        results["sqlite"] = measure(f"sqlite:///{home}/bench.db", home)
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"jobping_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            results["postgres"] = measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", home)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    baseline = results["sqlite"][1] / results["sqlite"][0]
    for backend, (pairs, seconds, runs) in results.items():
        per_pair = seconds / pairs
        print(
            f"{backend:<9} {pairs} pairs in {runs} match runs: {seconds:.2f} s, "
            f"{per_pair * 1000:.1f} ms per pair ({per_pair / baseline:.2f}x SQLite)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
