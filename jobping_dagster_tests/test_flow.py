"""The whole flow, scrape to notification, through the real assets and sensors, on SQLite
and on PostgreSQL, with the local scorer and with the OpenAI SDK against a fake server."""

import socket
from collections import Counter

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.schema import (
    companies,
    jobs,
    llm_calls,
    match_candidates,
    notifications,
    user_job_matches,
    users,
)
from jobping_dagster.definitions import build_definitions
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster_tests.builders import user
from jobping_dagster_tests.fakes.discord_server import FakeDiscord
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI

BACKEND = "Senior backend engineer, Python, remote. No crypto."
DATA = "Data engineer: SQL, dbt, Airflow, Spark. Remote or hybrid."


@pytest.fixture
def discord():
    with FakeDiscord() as fake:
        yield fake


@pytest.fixture
def settings(db_url, tmp_path, monkeypatch, discord) -> Settings:
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    monkeypatch.setenv("JOBPING_WEBHOOK_ALLOWED_HOSTS", discord.host)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return Settings.from_env()


def _seed_users(engine, discord) -> dict[str, int]:
    return {
        "backend": user(
            engine,
            "ada@example.com",
            BACKEND,
            discord_webhook=discord.webhook_url("1001"),
            allowed_hosts={discord.host},
        ),
        "data": user(engine, "grace@example.com", DATA, min_score=60),
        "none": user(engine, "nobody@example.com", prompt=None),
    }


def _state(engine):
    with engine.connect() as conn:
        matches = conn.execute(sa.select(user_job_matches)).all()
        sent = conn.execute(sa.select(notifications)).all()
        n_jobs = conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one()
        unresearched = conn.execute(
            sa.select(sa.func.count()).select_from(companies).where(companies.c.info.is_(None))
        ).scalar_one()
        webhooks = dict(conn.execute(sa.select(users.c.id, users.c.discord_webhook_url)).all())
        chosen = conn.execute(sa.select(match_candidates)).all()
    return matches, sent, n_jobs, unresearched, webhooks, chosen


def _assert_flow_complete(engine, discord, ids, report):
    assert report.failed_runs == []
    matches, sent, n_jobs, unresearched, webhooks, chosen = _state(engine)
    assert n_jobs >= 60
    assert unresearched == 0
    # Exactly the pairs the cascade chose are scored, for users with a prompt only, and far
    # fewer than all pairs.
    assert {(m.user_id, m.job_id) for m in matches} == {(c.user_id, c.job_id) for c in chosen}
    assert {m.user_id for m in matches} == {ids["backend"], ids["data"]}
    assert len(matches) < 2 * n_jobs / 4  # 2 users x n_jobs pairs in all
    high = {m.id for m in matches if m.score >= m.notify_threshold}
    assert high, "the sample data should produce high-score matches"
    assert sorted(n.match_id for n in sent) == sorted(high)
    for n in sent:
        assert n.status == ("sent" if webhooks[n.user_id] else "recorded")
    discord_sent = [n for n in sent if n.status == "sent"]
    assert len(discord.messages("1001")) == len(discord_sent) > 0
    return len(matches), len(sent)


def test_whole_flow_on_the_embedded_default(settings, discord):
    engine = get_engine(settings.database_url)
    ids = _seed_users(engine, discord)
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_once(defs, instance, utcnow().date())
        n_matches, n_sent = _assert_flow_complete(engine, discord, ids, report)
        messages_before = len(discord.messages("1001"))

        # A second pass the same day finds nothing new to score or send.
        again = run_once(defs, instance, utcnow().date())
        assert again.failed_runs == []
        assert again.runs.get("match_job", 0) == 0
        assert len(discord.messages("1001")) == messages_before
        matches, sent, *_ = _state(engine)
        assert (len(matches), len(sent)) == (n_matches, n_sent)

        checks = defs.resolve_job_def("asset_checks_job").execute_in_process(instance=instance)
    evaluations = checks.get_asset_check_evaluations()
    assert len(evaluations) == 5
    assert all(e.passed for e in evaluations), [e.metadata for e in evaluations if not e.passed]


def test_whole_flow_with_openai_sdk_against_a_fake_server(settings, discord, monkeypatch):
    with FakeOpenAI() as openai:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
        openai_settings = Settings.from_env()
        engine = get_engine(openai_settings.database_url)
        ids = _seed_users(engine, discord)
        defs = build_definitions(openai_settings)
        with dg.DagsterInstance.ephemeral() as instance:
            report = run_once(defs, instance, utcnow().date())
        n_matches, _ = _assert_flow_complete(engine, discord, ids, report)
        with engine.connect() as conn:
            n_companies = conn.execute(
                sa.select(sa.func.count()).select_from(companies)
            ).scalar_one()
            models = set(conn.execute(sa.select(user_job_matches.c.model)).scalars())
        # One call per scored pair, per company, and per prompt read into wishes.
        assert len(openai.requests) == n_matches + n_companies + 2
        assert models == {openai_settings.openai_model}
        # ...each in the cost ledger with the tokens the API reported, and for whom.
        with engine.connect() as conn:
            calls = conn.execute(sa.select(llm_calls)).all()
            pairs = set(
                conn.execute(sa.select(user_job_matches.c.user_id, user_job_matches.c.job_id)).all()
            )
        by_stage = Counter(call.stage for call in calls)
        assert by_stage == {"score": n_matches, "research": n_companies, "wishes": 2}
        assert {(c.user_id, c.job_id) for c in calls if c.stage == "score"} == pairs
        assert all(c.input_tokens > 0 and c.output_tokens > 0 for c in calls)
        assert {c.model for c in calls} == {openai_settings.openai_model}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: connections refused


def test_an_openai_outage_spends_one_attempt_and_work_resumes_after_the_cool_down(
    settings, discord, monkeypatch
):
    """An outage used to spend every attempt of every company in flight inside one run
    (three attempts in about 80 s) and park them all. Now a run spends one attempt, the
    next waits out a cool-down, and nothing is parked."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{_closed_port()}/v1")
    down = Settings.from_env()
    engine = get_engine(down.database_url)
    ids = _seed_users(engine, discord)
    with dg.DagsterInstance.ephemeral() as instance:
        during = run_once(build_definitions(down), instance, utcnow().date())
        with engine.connect() as conn:
            failed = conn.execute(sa.select(companies).where(companies.c.info.is_(None))).all()

        with FakeOpenAI() as openai:
            monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
            up = build_definitions(Settings.from_env())
            too_soon = run_once(up, instance, utcnow().date())
            with engine.begin() as conn:  # the cool-down passes
                conn.execute(companies.update().values(next_attempt_at=utcnow()))
            after = run_once(up, instance, utcnow().date())

    assert during.runs["research_job"] >= 1 and during.failed_runs
    assert failed and all(c.research_attempts == 1 for c in failed)
    assert all(c.next_attempt_at is not None for c in failed)  # none parked
    assert "APIConnectionError" in failed[0].last_error or "connect" in failed[0].last_error
    assert too_soon.runs.get("research_job", 0) == 0
    _assert_flow_complete(engine, discord, ids, after)
