"""The notification outbox against a fake Discord server over real HTTP."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import jobs, notifications, users
from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.matching.store import load_pair_inputs, save_match
from jobping_dagster.notify.discord import DiscordWebhookSender
from jobping_dagster.notify.outbox import MAX_DELIVERY_ATTEMPTS, drain, redrive
from jobping_dagster.notify.resources import NotificationOutbox
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.discord_server import Behaviour, FakeDiscord


@pytest.fixture
def discord():
    with FakeDiscord() as fake:
        yield fake


def _sender(fake) -> DiscordWebhookSender:
    sender = DiscordWebhookSender(allowed_hosts={fake.host}, max_inline_wait_seconds=1)
    sender.sleep = lambda seconds: None
    return sender


def _match(engine, user_id: int, job_id: int, score: int) -> None:
    key = f"u{user_id}-j{job_id}"
    with engine.begin() as conn:
        inputs, _ = load_pair_inputs(conn, [key])
        analysis = MatchAnalysis(
            score=score, explanation=f"why {key}", pros=["python"], cons=[], recommendation="apply"
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


def _statuses(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(notifications.c.job_id, notifications.c.status)).all())


@pytest.fixture
def setup(engine, discord):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(1, 6)], now)
    research(engine, "acme", now)
    with_hook = user(
        engine,
        "hook@example.com",
        discord_webhook=discord.webhook_url("1001"),
        allowed_hosts={discord.host},
    )
    without = user(engine, "table@example.com")
    return with_hook, without


def test_each_high_score_match_is_delivered_once(engine, discord, setup):
    with_hook, without = setup
    _match(engine, with_hook, 1, 90)
    _match(engine, with_hook, 2, 50)  # below the default threshold of 70
    _match(engine, without, 1, 75)

    first = drain(engine, _sender(discord).send, utcnow)
    second = drain(engine, _sender(discord).send, utcnow)

    assert first == {"sent": 1, "recorded": 1}
    assert second == {}
    messages = discord.messages("1001")
    assert len(messages) == 1
    assert "Backend Engineer 1" in messages[0]["embeds"][0]["title"]
    assert all(r.query.get("wait") == "true" for r in discord.requests)


def test_the_row_carries_its_messages_from_the_commit_and_delivery_sends_them(
    engine, discord, setup
):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    with engine.begin() as conn:
        row = conn.execute(sa.select(notifications)).one()
        # Delivery must not rebuild the message from the posting (or the match).
        conn.execute(jobs.update().where(jobs.c.id == 1).values(title="Changed later"))

    assert drain(engine, _sender(discord).send, utcnow) == {"sent": 1}
    assert row.message == "90/100 Backend Engineer 1 at Acme (Remote · remote) — apply"
    assert discord.messages("1001") == [row.payloads["discord"]]
    assert row.payloads["discord"]["embeds"][0]["title"] == "Backend Engineer 1 — Acme"


def test_a_row_without_a_rendered_discord_message_fails_instead_of_sending(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    with engine.begin() as conn:
        conn.execute(notifications.update().values(payloads={}))
    assert drain(engine, _sender(discord).send, utcnow) == {"failed": 1}
    assert discord.requests == []


def test_rescoring_a_notified_match_does_not_notify_again(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    drain(engine, _sender(discord).send, utcnow)
    _match(engine, with_hook, 1, 95)
    assert drain(engine, _sender(discord).send, utcnow) == {}
    assert len(discord.messages("1001")) == 1


def test_gone_webhook_is_marked_dead_and_never_called_again(engine, discord, setup):
    with_hook, _ = setup
    discord.set_gone("1001")
    _match(engine, with_hook, 1, 90)
    assert drain(engine, _sender(discord).send, utcnow) == {"dead": 1}
    _match(engine, with_hook, 2, 90)
    assert drain(engine, _sender(discord).send, utcnow) == {"recorded": 1}
    assert len(discord.requests) == 1
    with engine.connect() as conn:
        assert conn.execute(
            sa.select(users.c.webhook_dead_at).where(users.c.id == with_hook)
        ).scalar_one()


def test_rate_limit_beyond_the_inline_budget_is_retried_later_then_given_up(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    discord.enqueue("1001", Behaviour.rate_limited(120), times=MAX_DELIVERY_ATTEMPTS)
    clock = [utcnow()]

    assert drain(engine, _sender(discord).send, lambda: clock[0]) == {"retry": 1}
    assert drain(engine, _sender(discord).send, lambda: clock[0]) == {}  # not due yet
    for _ in range(MAX_DELIVERY_ATTEMPTS - 1):
        clock[0] += timedelta(hours=2)
        drain(engine, _sender(discord).send, lambda: clock[0])

    assert _statuses(engine) == {1: "failed"}
    assert discord.messages("1001") == []


def test_ambiguous_outcome_is_recorded_as_unknown_and_not_resent(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    discord.enqueue("1001", Behaviour.persist_then_drop())
    assert drain(engine, _sender(discord).send, utcnow) == {"unknown": 1}
    assert drain(engine, _sender(discord).send, utcnow) == {}
    assert len(discord.messages("1001")) == 1


def test_a_worker_that_died_mid_send_leaves_unknown_not_a_resend(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    with engine.begin() as conn:
        conn.execute(
            notifications.update().values(
                status="sending", claimed_at=utcnow() - timedelta(hours=1)
            )
        )
    outcome = drain(engine, _sender(discord).send, utcnow)
    assert outcome == {"recovered_as_unknown": 1}
    assert discord.requests == []


def test_concurrent_drains_deliver_each_notification_once(engine, discord, setup):
    with_hook, _ = setup
    for job_id in range(1, 6):
        _match(engine, with_hook, job_id, 90)
    threads = [
        threading.Thread(target=drain, args=(engine, _sender(discord).send, utcnow))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(discord.messages("1001")) == 5
    assert set(_statuses(engine).values()) == {"sent"}


def test_redrive_sends_failed_notifications_again_and_leaves_the_rest(engine, discord, setup):
    with_hook, _ = setup
    _match(engine, with_hook, 1, 90)
    _match(engine, with_hook, 2, 90)
    discord.enqueue("1001", Behaviour.error(400))  # the first send is refused: failed
    discord.enqueue("1001", Behaviour.persist_then_drop())  # the second: unknown
    assert drain(engine, _sender(discord).send, utcnow) == {"failed": 1, "unknown": 1}

    with engine.begin() as conn:
        assert redrive(conn, ["failed"]) == 1
        with pytest.raises(ValueError, match="--status must be among"):
            redrive(conn, ["sent"])
    assert drain(engine, _sender(discord).send, utcnow) == {"sent": 1}
    assert sorted(_statuses(engine).values()) == ["sent", "unknown"]
    assert len(discord.messages("1001")) == 2  # the failed one now, the unknown one before
