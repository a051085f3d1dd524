"""The daily account: every figure of the funnel, the LLM cost and the latency computed
from a day's rows, the asset a pass materializes, and `jobping stats`."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.account.daily import Recorded, day_account
from jobping_dagster.account.report import account_metadata, report_lines
from jobping_dagster.cli import main
from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.schema import match_candidates, notifications, raw_scrapes
from jobping_dagster.definitions import build_definitions
from jobping_dagster.llm.ledger import RESEARCH, SCORE, record_usage
from jobping_dagster.llm.prices import DEFAULT_PRICES, parse_prices
from jobping_dagster.llm.usage import Usage
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster_tests.builders import posting, research, scored_match, store_postings, user

PRICES = parse_prices(DEFAULT_PRICES)


def _scrape(engine, day, site, rows, error=None):
    with engine.begin() as conn:
        conn.execute(
            raw_scrapes.insert().values(
                day=day, source="jobspy", site=site, fetched_at=utcnow(), row_count=rows,
                error=error, payload="[]",
            )
        )  # fmt: skip


def test_a_days_figures(engine):
    now = utcnow().replace(hour=12)
    day = now.date()
    _scrape(engine, day, "indeed", 40)
    _scrape(engine, day, "indeed", 0)  # an empty hour
    _scrape(engine, day, "linkedin", 0, error="HTTP 429: blocked")
    store_postings(engine, [posting(n) for n in range(1, 5)], now)
    research(engine, "acme", now)
    ada = user(engine, "ada@example.com")
    bob = user(engine, "bob@example.com")
    with engine.begin() as conn:
        for job_id, decision in ((1, "kept"), (2, "kept"), (3, "shadow"), (4, "pulled")):
            conn.execute(
                match_candidates.insert().values(
                    user_id=ada, job_id=job_id, day=day, decision=decision, relevance=0.5,
                    prompt_hash="h", created_at=now,
                )
            )  # fmt: skip
    scored_match(engine, ada, 1, 90, notified_status="sent")
    scored_match(engine, ada, 2, 40)
    scored_match(engine, bob, 3, 80, notified_status="failed")
    with engine.begin() as conn:
        conn.execute(notifications.update().values(channel="discord"))
        sent_at = utcnow()
        conn.execute(
            notifications.update()
            .where(notifications.c.status == "sent")
            .values(created_at=sent_at - timedelta(seconds=30), delivered_at=sent_at)
        )
        record_usage(
            conn, SCORE, [Usage("gpt-4o-mini", 1_000_000, 400_000, 100_000)] * 2, now, user_id=ada
        )
        record_usage(conn, SCORE, [Usage("gpt-4o-mini-2024-07-18", 1_000_000)], now, user_id=bob)
        record_usage(conn, RESEARCH, [Usage("mystery-model", 500)], now, company_key="acme")
        record_usage(
            conn, SCORE, [Usage("gpt-4o-mini", 9_999_999)], now - timedelta(days=1), user_id=ada
        )

    recorded = Recorded(rejected_by_reason={"missing_url": 2}, pairs_considered=8, pairs_gated=3)
    with engine.connect() as conn:
        account = day_account(conn, day, PRICES, recorded)

    assert account.scrapes == [
        {"site": "indeed", "scrapes": 2, "rows": 40, "blocked": 0, "empty": 1},
        {"site": "linkedin", "scrapes": 1, "rows": 0, "blocked": 1, "empty": 0},
    ]
    assert account.new_postings == 4 and account.companies_researched == 1
    assert account.pairs == {
        "considered": 8,
        "gated": 3,
        "kept": 2,
        "shadow": 1,
        "pulled": 1,
        "rerun": 0,
    }
    assert (account.matches_scored, account.matches_at_threshold) == (3, 2)
    assert account.messages == {"discord": {"sent": 1, "failed": 1}}
    # Ada: 2 x (0.6M uncached x 0.15 + 0.4M cached x 0.075 + 0.1M out x 0.60) = 2 x 0.18
    score = next(row for row in account.llm_by_stage if row["stage"] == "score")
    assert score["calls"] == 3 and score["cached_tokens"] == 800_000
    assert score["dollars"] == pytest.approx(2 * 0.18 + 0.15)
    assert account.unpriced_models == ["mystery-model"]
    assert [(row["user"], row["dollars"]) for row in account.llm_by_user] == [
        (ada, pytest.approx(0.36)), (bob, pytest.approx(0.15)),
    ]  # fmt: skip
    assert account.llm_by_user[0]["email"] == "a***@example.com"
    assert account.latency == {"discord": {"delivered": 1, "median_s": 30.0, "p95_s": 30.0}}
    metadata = account_metadata(account)
    assert metadata["llm_dollars"] == pytest.approx(0.51)
    assert metadata["messages_failed"] == 1 and metadata["messages_delivered"] == 1
    text = "\n".join(report_lines(account))
    assert "linkedin 0 rows (1 blocked)" in text and "rejected 2 (2 missing_url)" in text
    assert "no price for mystery-model" in text


def test_a_pass_materializes_the_days_account_and_stats_prints_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.delenv("JOBPING_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    user(engine, "ada@example.com", "Senior backend engineer, Python, remote")
    defs = build_definitions(settings)
    day = utcnow().date()
    instance_home = tmp_path / "dagster"
    instance_home.mkdir()
    with dg.DagsterInstance.from_config(str(instance_home)) as instance:
        report = run_once(defs, instance, day)
        assert report.failed_runs == []
        [record] = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("daily_account"), asset_partitions=[day.isoformat()]
            ),
            limit=5,
        ).records
    metadata = record.asset_materialization.metadata
    with engine.connect() as conn:
        scored = conn.execute(sa.text("SELECT count(*) FROM user_job_matches")).scalar_one()
    assert metadata["matches_scored"].value == scored > 0
    assert metadata["llm_calls"].value >= scored
    assert metadata["postings_new"].value > 0
    assert "pairs considered" in metadata["funnel"].value

    monkeypatch.setenv("DAGSTER_HOME", str(instance_home))
    assert main(["stats", "--days", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{day - timedelta(days=1)}\n  postings    no scrape" in out
    assert f"{day}\n  postings    indeed" in out
    assert "considered" in out and "? considered" not in out.split(str(day))[-1]
    assert main(["stats", "--days", "0"]) == 2
