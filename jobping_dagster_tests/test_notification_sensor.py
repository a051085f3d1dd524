from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import notifications
from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.store import load_pair_inputs, save_match
from jobping_dagster.notify import sensors
from jobping_dagster.notify.assets import notifications as notifications_asset
from jobping_dagster.notify.checks import notifications_are_flowing
from jobping_dagster.notify.resources import (
    DeliveryChannelsResource,
    DiscordResource,
    NotificationOutbox,
)
from jobping_dagster.notify.sensors import build_notification_sensor
from jobping_dagster_tests.builders import posting, research, store_postings, user


def _tick(instance, db_url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"app_db": AppDatabase(url=db_url)}
    )
    return build_notification_sensor(interval_seconds=30)(context)


def _score(engine, instance, key: str, score: int) -> None:
    """Stores a match as the asset does, then logs its materialization event."""
    with engine.begin() as conn:
        inputs, _ = load_pair_inputs(conn, [key])
        analysis = MatchAnalysis(
            score=score,
            explanation="x",
            pros=[],
            cons=[],
            recommendation="apply" if score >= 70 else "skip",
        )
        save_match(
            conn,
            inputs[key],
            analysis,
            model="test",
            prompt_version="v",
            now=utcnow(),
            outbox=NotificationOutbox(),
        )
    instance.add_dynamic_partitions(pair_partitions_def.name, [key])
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            "user_job_matches", partition=key, metadata={"notify": score >= 70, "score": score}
        )
    )


def _setup(engine):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(1, 5)], now)
    research(engine, "acme", now)
    return user(engine, "alice@example.com")


def test_one_drain_is_requested_per_outbox_state(engine, db_url):
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        for job_id, score in ((1, 90), (2, 40), (3, 80)):
            _score(engine, instance, f"u{alice}-j{job_id}", score)
        first = _tick(instance, db_url)
        again = _tick(instance, db_url, cursor=first.cursor)

    assert len(first.run_requests) == 1
    # Nothing changed in the outbox: the same run key, which Dagster runs only once.
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in first.run_requests]


def test_no_drain_without_due_notifications(engine, db_url):
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        _score(engine, instance, f"u{alice}-j1", 30)
        result = _tick(instance, db_url)
    assert result.run_requests == []
    assert result.skip_reason is not None


def test_due_retry_asks_for_a_new_drain(engine, db_url):
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        _score(engine, instance, f"u{alice}-j1", 95)
        first = _tick(instance, db_url)
        with engine.begin() as conn:
            conn.execute(
                notifications.update().values(
                    status="retry", attempts=1, next_attempt_at=utcnow() + timedelta(hours=1)
                )
            )
        not_yet = _tick(instance, db_url, cursor=first.cursor)
        with engine.begin() as conn:
            conn.execute(
                notifications.update().values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        due = _tick(instance, db_url, cursor=not_yet.cursor)

    assert not_yet.run_requests == []
    assert len(due.run_requests) == 1
    assert due.run_requests[0].run_key != first.run_requests[0].run_key
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notifications)).scalar_one() == 1


def test_no_second_drain_while_one_is_still_queued(engine, db_url):
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        _score(engine, instance, f"u{alice}-j1", 90)
        first = _tick(instance, db_url)
        # The requested drain is created but not started yet (as in the run queue).
        defs = dg.Definitions(
            assets=[notifications_asset],
            jobs=[sensors.notify_job],
            resources={
                "app_db": AppDatabase(url=db_url),
                "discord": DiscordResource(),
                "delivery": DeliveryChannelsResource(),
            },
        )
        instance.create_run_for_job(defs.resolve_job_def("notify_job"))
        _score(engine, instance, f"u{alice}-j2", 95)  # the outbox changes meanwhile
        second = _tick(instance, db_url, cursor=first.cursor)

    assert len(first.run_requests) == 1
    assert second.run_requests == []
    assert second.skip_reason.skip_message == "a drain is already queued"


def test_a_drain_that_failed_before_claiming_is_followed_by_another(
    engine, db_url, monkeypatch, capfd
):
    """The outbox stall: a drain failing before it claims anything (its database down) left
    the outbox state, hence the run key, unchanged, and every later request was skipped as
    already done. Now the key moves on with the minute, and a long wait is reported."""
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        _score(engine, instance, f"u{alice}-j1", 90)
        first = _tick(instance, db_url)
        [request] = first.run_requests
        unreachable = AppDatabase(url="postgresql+psycopg2://postgres@127.0.0.1:9/none")
        defs = dg.Definitions(
            assets=[notifications_asset],
            jobs=[sensors.notify_job],
            resources={
                "app_db": unreachable,
                "discord": DiscordResource(),
                "delivery": DeliveryChannelsResource(),
            },
        )
        drain = defs.resolve_job_def("notify_job").execute_in_process(
            instance=instance, tags={"dagster/run_key": request.run_key}, raise_on_error=False
        )
        with engine.connect() as conn:
            status = conn.execute(sa.select(notifications.c.status)).scalar_one()
        keys_run = {run.tags.get("dagster/run_key") for run in instance.get_runs()}

        later = utcnow() + timedelta(seconds=61)
        monkeypatch.setattr(sensors, "utcnow", lambda: later)
        retried = _tick(instance, db_url, cursor=first.cursor)
        stalled_at = utcnow() + sensors.STALLED_AFTER + timedelta(minutes=1)
        monkeypatch.setattr(sensors, "utcnow", lambda: stalled_at)
        capfd.readouterr()
        _tick(instance, db_url, cursor=first.cursor)
        logged = capfd.readouterr().err

    assert not drain.success and status == "pending"  # failed, claimed nothing
    assert len(retried.run_requests) == 1
    assert retried.run_requests[0].run_key not in keys_run
    assert "has been due for 11 min" in logged


def test_the_flowing_check_fails_when_a_notification_waits_too_long(engine, db_url):
    alice = _setup(engine)
    with dg.DagsterInstance.ephemeral() as instance:
        _score(engine, instance, f"u{alice}-j1", 90)
    fresh = notifications_are_flowing(dg.build_asset_check_context(), AppDatabase(url=db_url))
    with engine.begin() as conn:
        conn.execute(notifications.update().values(created_at=utcnow() - timedelta(minutes=30)))
    stalled = notifications_are_flowing(dg.build_asset_check_context(), AppDatabase(url=db_url))

    assert fresh.passed
    assert not stalled.passed
    assert stalled.metadata["longest_wait_seconds"].value >= 30 * 60


def test_a_user_past_their_monthly_budget_is_told_once(engine, db_url):
    from jobping_dagster.db.schema import users
    from jobping_dagster.llm.ledger import SCORE, record_usage
    from jobping_dagster.llm.usage import Usage

    now = utcnow()
    alice = user(engine, "alice@example.com")
    bob = user(engine, "bob@example.com")
    with engine.begin() as conn:
        conn.execute(users.update().values(llm_budget_usd=0.10))
        record_usage(conn, SCORE, [Usage("gpt-4o-mini", 1_000_000)], now, user_id=alice)
    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        second = _tick(instance, db_url)
    assert len(first.run_requests) == 1, "the notice is due: a drain is requested"
    assert second.run_requests  # still due until drained, but not queued twice
    with engine.connect() as conn:
        rows = conn.execute(sa.select(notifications)).all()
    assert [(r.user_id, r.kind, r.dedup_key) for r in rows] == [
        (alice, "notice", f"notice:budget:{now:%Y-%m}")
    ]
    assert "budget" in rows[0].message and bob != rows[0].user_id
