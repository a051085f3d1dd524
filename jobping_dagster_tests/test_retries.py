"""Failed company research and pair scores: attempts spread over hours by cool-downs, parked
after the last, re-driven by an operator; the research sensor retries them in batches."""

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.cli import main
from jobping_dagster.companies.assets import company_info, company_partitions_def
from jobping_dagster.companies.sensors import (
    COMPANIES_PER_RUN,
    build_company_research_sensor,
    research_job,
)
from jobping_dagster.companies.store import (
    MatchableWindow,
    companies_to_research,
    record_research_failure,
)
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import companies, match_failures
from jobping_dagster.llm.models import LLMError, QuotaExceededError
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.postings.recency import FAN_OUT_WINDOW, MAX_POSTING_AGE
from jobping_dagster.retries import COOL_DOWNS, MAX_AUTOMATIC_ATTEMPTS, is_retryable
from jobping_dagster_tests.builders import evaluate_sensor, posting, store_postings, user


def _due(engine, now):
    with engine.connect() as conn:
        return [
            c.key
            for c in companies_to_research(
                conn,
                now=now,
                window=MatchableWindow(now - FAN_OUT_WINDOW, MAX_POSTING_AGE),
                limit=100,
            )
        ]


def test_failed_research_waits_out_growing_cool_downs_then_parks(engine):
    now = utcnow()
    store_postings(engine, [posting(1, "Acme")], now)
    waits = []
    for _ in range(MAX_AUTOMATIC_ATTEMPTS):
        assert _due(engine, now) == ["acme"]
        with engine.begin() as conn:
            attempts, next_at = record_research_failure(
                conn, "acme", "HTTP 503", retryable=True, now=now
            )
        assert _due(engine, now) == []  # cooling down, or parked
        if next_at is not None:
            waits.append(next_at - now)
            now = next_at
    assert waits == list(COOL_DOWNS)  # 2 min, 10 min, 1 h, 6 h
    assert attempts == MAX_AUTOMATIC_ATTEMPTS and next_at is None
    assert _due(engine, now + timedelta(days=1)) == []  # parked for good


def test_a_request_the_provider_refuses_is_parked_at_once(engine):
    now = utcnow()
    store_postings(engine, [posting(1, "Acme")], now)
    assert not is_retryable(QuotaExceededError())
    assert is_retryable(LLMError("HTTP 503", retryable=True))
    with engine.begin() as conn:
        _, next_at = record_research_failure(
            conn, "acme", "quota", retryable=is_retryable(QuotaExceededError()), now=now
        )
    assert next_at is None
    assert _due(engine, now + timedelta(days=1)) == []


def _research_tick(instance, db_url, cursor="started"):
    resources = {"app_db": AppDatabase(url=db_url)}
    defs = dg.Definitions(
        assets=[company_info],
        jobs=[research_job],
        resources={**resources, "llm": LocalLLMResource()},
    )
    return evaluate_sensor(
        build_company_research_sensor(interval_seconds=30), instance, resources, cursor, defs
    )


def test_research_sensor_retries_due_companies_in_batched_runs(engine, db_url):
    now = utcnow()
    names = [f"Company {n}" for n in range(COMPANIES_PER_RUN + 5)]
    for n, name in enumerate(names):
        store_postings(engine, [posting(n, name)], now)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _research_tick(instance, db_url)
        with engine.begin() as conn:  # the whole first batch failed in an outage...
            for key in instance.get_dynamic_partitions(company_partitions_def.name):
                record_research_failure(conn, key, "HTTP 503", retryable=True, now=now)
        cooling = _research_tick(instance, db_url)
        with engine.begin() as conn:  # ...and its cool-down has passed
            conn.execute(companies.update().values(next_attempt_at=now))
        sent_back = _research_tick(instance, db_url)
        retried = _research_tick(instance, db_url)
        keys = instance.get_dynamic_partitions(company_partitions_def.name)

    assert len(first.run_requests) == 2
    assert cooling.run_requests == []
    assert sent_back.run_requests == []  # partitions deleted: added again next tick
    [deleted] = sent_back.dynamic_partitions_requests
    assert len(deleted.partition_keys) == len(names)
    assert [r.run_key.split(":")[0] for r in retried.run_requests] == ["research-retry"] * 2
    assert sorted(keys) == sorted({f"company-{n}" for n in range(len(names))})
    assert all(r.tags["dagster/max_runtime"] for r in retried.run_requests)


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)


def test_redrive_command_makes_parked_work_due_again(env, engine, capsys):
    now = utcnow()
    store_postings(engine, [posting(1, "Acme"), posting(2, "Globex")], now)
    alice = user(engine, "alice@example.com")
    with engine.begin() as conn:
        for key in ("acme", "globex"):
            conn.execute(
                companies.update()
                .where(companies.c.key == key)
                .values(research_attempts=5, last_error="HTTP 503", next_attempt_at=None)
            )
        conn.execute(
            match_failures.insert().values(
                user_id=alice,
                job_id=1,
                partition_key=f"u{alice}-j1",
                attempts=5,
                last_error="HTTP 503",
                last_attempt_at=now,
                next_attempt_at=None,
            )
        )

    assert main(["redrive", "matches", "--user", "alice@example.com"]) == 0
    assert main(["redrive", "companies"]) == 0
    assert main(["redrive", "matches", "--user", "nobody@example.com"]) == 2
    out, err = capsys.readouterr()
    assert "1 failed pair due now" in out and "2 failed companies due now" in out
    assert "no user nobody@example.com" in err
    with engine.connect() as conn:
        failure = conn.execute(sa.select(match_failures)).one()
    assert failure.attempts == 0 and failure.next_attempt_at is not None
    assert sorted(_due(engine, utcnow())) == ["acme", "globex"]
