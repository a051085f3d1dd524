"""The batch path: non-urgent pairs scored through OpenAI's Batch API at half price, through
the real SDK against the fake OpenAI server."""

import json
from datetime import date, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.schema import (
    jobs,
    llm_batch_pairs,
    llm_batches,
    llm_calls,
    match_candidates,
    match_failures,
    notifications,
    user_job_matches,
)
from jobping_dagster.definitions import build_definitions
from jobping_dagster.llm.models import JobForScoring, LLMError, MatchAnalysis
from jobping_dagster.llm.openai_client import OpenAIClient
from jobping_dagster.llm.prices import DEFAULT_PRICES, dollars, parse_prices, price_for
from jobping_dagster.matching.batch import BATCH_FAILED, goes_by_batch, pairs_to_batch
from jobping_dagster.matching.pair_partitions import RETRY_PENDING, pairs_to_fan_out
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI, malformed

TODAY = date(2026, 12, 4)
PAST = date(2026, 12, 1)
JOB = JobForScoring(title="Senior Python Engineer", company="Acme", description="Build APIs.")


@pytest.mark.parametrize(
    ("mode", "decision", "day", "expected"),
    [
        ("off", "shadow", TODAY, False),
        ("off", "kept", PAST, False),
        ("shadow", "shadow", TODAY, True),
        ("shadow", "kept", PAST, False),  # a backfill goes instant unless non-urgent
        ("shadow", "pulled", TODAY, False),
        ("non-urgent", "shadow", TODAY, True),
        ("non-urgent", "kept", PAST, True),  # a backfill
        ("non-urgent", "kept", TODAY, False),  # today's kept pairs are what users wait for
        ("non-urgent", "pulled", PAST, False),  # someone asked now
        ("non-urgent", "rerun", PAST, False),
    ],
)
def test_which_pairs_go_by_batch(mode, decision, day, expected):
    assert goes_by_batch(mode, decision, day, TODAY) is expected


def test_a_batch_holds_the_instant_request_and_its_results_are_validated_with_batch_usage():
    with FakeOpenAI() as fake:
        client = OpenAIClient(api_key="sk-test", base_url=fake.base_url)
        client.score(JOB, "python roles", None)  # the instant request, for comparison
        instant = fake.requests[0].body
        fake.batch_polls_to_complete = 3
        fake.batch_line_behaviours["u2-j1"] = malformed()
        lines = [client.score_request(key, JOB, "python roles", None) for key in ("u1-j1", "u2-j1")]
        provider_id = client.submit_batch(lines)

        # What was uploaded: one chat completion a line, named by the pair key, as instant.
        [upload] = [f for f in fake.files.values() if f["purpose"] == "batch"]
        sent = [json.loads(line) for line in upload["data"].splitlines()]
        assert [line["custom_id"] for line in sent] == ["u1-j1", "u2-j1"]
        assert {line["url"] for line in sent} == {"/v1/chat/completions"}
        body = sent[0]["body"]
        assert body["messages"] == instant["messages"]
        assert body["response_format"] == instant["response_format"]
        assert body["model"] == instant["model"] == "gpt-4o-mini"
        assert fake.batches[provider_id]["endpoint"] == "/v1/chat/completions"

        # Polled until it completes (the third poll here).
        statuses = [client.batch_status(provider_id).status for _ in range(3)]
        assert statuses == ["in_progress", "in_progress", "completed"]
        status = client.batch_status(provider_id)
        results = client.batch_results(status.output_file_id, status.error_file_id)
    good, good_usage = results["u1-j1"]
    assert isinstance(good, MatchAnalysis) and good.score == 85
    assert good_usage.batch and good_usage.input_tokens > 0 and good_usage.output_tokens > 0
    bad, bad_usage = results["u2-j1"]
    assert isinstance(bad, LLMError) and "malformed" in bad.reason and bad_usage.batch


@pytest.fixture
def batch_settings(sqlite_url, tmp_path, monkeypatch):
    fake = FakeOpenAI().start()
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("JOBPING_BATCH_API", "shadow")
    # Many shadow pairs: a third of the dropped ones.
    monkeypatch.setenv("JOBPING_PREFILTER_SHADOW_RATE", "0.3")
    yield Settings.from_env(), fake
    fake.stop()


def _seed(engine):
    user(engine, "ada@example.com", "Senior backend engineer, Python, remote.")
    user(engine, "grace@example.com", "Data engineer: SQL, dbt, Airflow, Spark.", min_score=60)


def test_a_pass_scores_kept_pairs_instantly_and_shadow_pairs_by_batch(batch_settings):
    settings, fake = batch_settings
    engine = get_engine(settings.database_url)
    _seed(engine)
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_once(defs, instance, utcnow().date())
        assert report.failed_runs == []
        again = run_once(defs, instance, utcnow().date())
    assert again.failed_runs == [] and again.runs.get("match_job", 0) == 0
    with engine.connect() as conn:
        chosen = {
            (r.user_id, r.job_id): r.decision for r in conn.execute(sa.select(match_candidates))
        }
        matches = {(m.user_id, m.job_id): m for m in conn.execute(sa.select(user_job_matches))}
        calls = conn.execute(sa.select(llm_calls).where(llm_calls.c.stage == "score")).all()
        batches = conn.execute(sa.select(llm_batches)).all()
        in_batch = set(conn.execute(sa.select(llm_batch_pairs.c.user_id, llm_batch_pairs.c.job_id)))
        sent = conn.execute(sa.select(notifications)).all()
    shadow = {pair for pair, decision in chosen.items() if decision == "shadow"}
    kept = set(chosen) - shadow
    assert shadow and kept
    # Every chosen pair is scored once; the shadow ones by one completed batch.
    assert set(matches) == set(chosen)
    assert [b.status for b in batches] == ["completed"]
    assert batches[0].pair_count == len(shadow) == batches[0].completed_count
    assert in_batch == shadow
    by_pair = {(c.user_id, c.job_id): c for c in calls}
    assert len(calls) == len(chosen)
    assert {pair for pair, c in by_pair.items() if c.batch} == shadow
    assert {pair for pair, c in by_pair.items() if not c.batch} == kept
    # Instant calls went one by one; the batch as one file.
    chat_calls = [r for r in fake.requests if r.path.rstrip("/") == "/v1/chat/completions"]
    scored_instantly = [r for r in chat_calls if "MatchAnalysis" in json.dumps(r.body)]
    assert len(scored_instantly) == len(kept)
    # A batch score is written like an instant one: its high scores notified.
    high = {m.id for m in matches.values() if m.score >= m.notify_threshold}
    assert sorted(n.match_id for n in sent) == sorted(high)
    # Half price per token.
    price = price_for("gpt-4o-mini", parse_prices(DEFAULT_PRICES))
    c = next(c for c in calls if c.batch)
    full = dollars(price, c.input_tokens, c.cached_tokens, c.output_tokens, False)
    assert dollars(price, c.input_tokens, c.cached_tokens, c.output_tokens, True) == full / 2


def test_a_failed_batch_sends_its_pairs_the_instant_way(batch_settings):
    settings, fake = batch_settings
    fake.batch_outcome = "expired"
    engine = get_engine(settings.database_url)
    _seed(engine)
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        first = run_once(defs, instance, utcnow().date())
        # The batch expired in the pass; its pairs are back for the next fan-out tick.
        with engine.connect() as conn:
            [batch] = conn.execute(sa.select(llm_batches)).all()
        assert (batch.status, batch.error) == ("failed", "batch expired")
        second = run_once(defs, instance, utcnow().date())
    assert first.failed_runs == second.failed_runs == []
    with engine.connect() as conn:
        chosen = set(conn.execute(sa.select(match_candidates.c.user_id, match_candidates.c.job_id)))
        scored = conn.execute(
            sa.select(user_job_matches.c.user_id, user_job_matches.c.job_id)
        ).all()
        calls = conn.execute(sa.select(llm_calls).where(llm_calls.c.stage == "score")).all()
        in_batch = set(conn.execute(sa.select(llm_batch_pairs.c.user_id, llm_batch_pairs.c.job_id)))
    assert in_batch
    # Never lost, never doubled: every pair scored once, the batch's ones instantly.
    assert sorted(scored) == sorted(chosen)
    assert len(calls) == len(chosen) and not any(c.batch for c in calls)


def test_a_malformed_batch_answer_is_a_failed_pair_retried_the_instant_way(batch_settings):
    settings, fake = batch_settings
    engine = get_engine(settings.database_url)
    _seed(engine)
    defs = build_definitions(settings)
    # The shadow pairs are not known before the pass: every line of the batch is malformed.
    original = fake._finish_batch

    def finish(batch):
        for raw in fake.files[batch["input_file_id"]]["data"].splitlines():
            fake.batch_line_behaviours[json.loads(raw)["custom_id"]] = malformed()
        original(batch)

    fake._finish_batch = finish
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_once(defs, instance, utcnow().date())
    assert any("malformed model output" in failure for failure in report.failed_runs)
    with engine.connect() as conn:
        failures = conn.execute(sa.select(match_failures)).all()
        in_batch = set(conn.execute(sa.select(llm_batch_pairs.c.user_id, llm_batch_pairs.c.job_id)))
        batch_calls = conn.execute(
            sa.select(sa.func.count()).select_from(llm_calls).where(llm_calls.c.batch.is_(True))
        ).scalar_one()
    assert {(f.user_id, f.job_id) for f in failures} == in_batch
    assert all("malformed" in f.last_error for f in failures)
    # The answers were paid for: in the ledger at the batch price.
    assert batch_calls == len(in_batch)


def test_a_failed_submission_keeps_the_pairs_for_the_next_batch(batch_settings):
    settings, fake = batch_settings
    fake.batch_upload_status = 500
    engine = get_engine(settings.database_url)
    _seed(engine)
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:
        run_once(defs, instance, utcnow().date())
        with engine.connect() as conn:
            [batch] = conn.execute(sa.select(llm_batches)).all()
            waiting = conn.execute(
                sa.select(sa.func.count())
                .select_from(match_candidates)
                .where(match_candidates.c.decision == "shadow")
                .where(match_candidates.c.run_key.is_(None))
            ).scalar_one()
        assert batch.status == "failed" and batch.error.startswith("submission failed: OpenAI")
        assert waiting == batch.pair_count > 0  # neither scored nor sent anywhere
        fake.batch_upload_status = 200
        report = run_once(defs, instance, utcnow().date())
    assert report.failed_runs == []
    with engine.connect() as conn:
        statuses = [
            b.status for b in conn.execute(sa.select(llm_batches).order_by(llm_batches.c.id))
        ]
        chosen = set(conn.execute(sa.select(match_candidates.c.user_id, match_candidates.c.job_id)))
        scored = conn.execute(
            sa.select(user_job_matches.c.user_id, user_job_matches.c.job_id)
        ).all()
        batch_calls = conn.execute(
            sa.select(sa.func.count()).select_from(llm_calls).where(llm_calls.c.batch.is_(True))
        ).scalar_one()
    assert statuses == ["failed", "completed"]
    assert sorted(scored) == sorted(chosen)
    assert batch_calls == waiting


def test_a_completed_batch_waits_while_match_runs_are_at_their_limit(batch_settings):
    settings, fake = batch_settings
    fake.batch_polls_to_complete = 99  # the pass submits; the batch is still running
    engine = get_engine(settings.database_url)
    _seed(engine)
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("batch_scoring_sensor")
    with dg.DagsterInstance.ephemeral() as instance:
        run_once(defs, instance, utcnow().date())
        fake.batch_polls_to_complete = 1

        def tick(**prefilter):
            resources = {
                **defs.resources,
                "prefilter": PrefilterResource(batch_api="shadow", **prefilter),
            }
            context = dg.build_sensor_context(
                instance=instance, resources=resources, definitions=defs
            )
            return sensor.evaluate_tick(context)

        assert not tick(max_active_match_runs=0).run_requests  # no room: not even polled
        with engine.connect() as conn:
            assert conn.execute(sa.select(llm_batches.c.status)).scalars().all() == ["submitted"]
        [batch_id] = fake.batches
        assert fake.batches[batch_id]["status"] == "in_progress"
        requests = tick().run_requests
    assert requests and all(
        r.run_config == {"ops": {"user_job_matches": {"config": {"batch_id": 1}}}} for r in requests
    )


@pytest.mark.parametrize("mode", ["off", "shadow", "non-urgent"])
def test_the_fan_out_and_the_batch_sensor_split_the_pairs_as_goes_by_batch_says(engine, mode):
    now = utcnow()
    today, past = now.date(), now.date() - timedelta(days=3)
    store_postings(engine, [posting(n) for n in range(9)], now)
    research(engine, "acme", now)
    user_id = user(engine, "ada@example.com")
    rows = [  # decision, day, run_key
        ("shadow", today, None),
        ("shadow", past, None),
        ("kept", today, None),
        ("kept", past, None),
        ("pulled", past, None),
        ("rerun", past, None),
        ("kept", past, RETRY_PENDING),  # sent back to run again: instant
        ("shadow", today, BATCH_FAILED),  # its batch failed: instant
        ("shadow", today, "batch:7"),  # in a batch: neither
    ]
    with engine.begin() as conn:
        job_ids = sorted(conn.execute(sa.select(jobs.c.id)).scalars())
        conn.execute(
            match_candidates.insert(),
            [
                dict(
                    user_id=user_id,
                    job_id=job_id,
                    day=day,
                    decision=decision,
                    relevance=0.5,
                    prompt_hash="h",
                    created_at=now,
                    run_key=run_key,
                )
                for job_id, (decision, day, run_key) in zip(job_ids, rows, strict=True)
            ],
        )
        by_batch = set(pairs_to_batch(conn, mode, now, 100))
        instant = {(p.user_id, p.job_id) for p in pairs_to_fan_out(conn, now, 100, (), mode)}
    expected = {
        (user_id, job_id)
        for job_id, (decision, day, run_key) in zip(job_ids, rows, strict=True)
        if run_key is None and goes_by_batch(mode, decision, day, today)
    }
    in_batch = {(user_id, job_ids[-1])}
    assert by_batch == expected
    assert instant == {(user_id, j) for j in job_ids} - expected - in_batch
