"""DiscordWebhookSender against the fake Discord server, over real HTTP on 127.0.0.1."""

import socket
import time
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import notifications
from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.matching.store import load_pair_inputs, save_match
from jobping_dagster.notify.discord import DiscordWebhookSender
from jobping_dagster.notify.outbox import drain
from jobping_dagster.notify.resources import NotificationOutbox
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.discord_server import Behaviour, FakeDiscord

TOKEN = "SeCrEt_t0ken-abcdefghijklmnopqrstuvwxyz"
PAYLOAD = {"content": "New match", "embeds": [{"title": "Data Engineer — Acme"}]}


@pytest.fixture
def fake():
    with FakeDiscord() as server:
        yield server


def recording_sender(fake, **options) -> DiscordWebhookSender:
    """A sender that records its waits instead of sleeping."""
    sender = DiscordWebhookSender(allowed_hosts={fake.host}, **options)
    sender.waits = []
    sender.sleep = sender.waits.append
    return sender


@pytest.fixture
def sender(fake):
    with recording_sender(fake, timeout_seconds=2.0) as s:
        yield s


def send(sender, fake, webhook_id="1001"):
    result = sender.send(fake.webhook_url(webhook_id, TOKEN), PAYLOAD)
    assert TOKEN not in (result.error or "")
    assert fake.host not in (result.error or "")
    return result


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolate_proxy_settings(monkeypatch) -> None:
    """requests takes proxies from the environment (trust_env): start from none."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    # An empty NO_PROXY, so that 127.0.0.1 is not exempted from the proxy.
    monkeypatch.setenv("NO_PROXY", "")


def test_success_returns_message_id_and_always_waits(sender, fake):
    result = sender.send(fake.webhook_url("1001", TOKEN) + "?thread_id=77", PAYLOAD)

    assert result.status == "sent"
    assert result.attempts == 1
    assert result.error is None
    [request] = fake.requests
    assert request.query == {"thread_id": "77", "wait": "true"}
    assert request.json == PAYLOAD
    assert fake.messages("1001") == [PAYLOAD]
    assert result.message_id and result.message_id.isdigit()


def test_caller_wait_false_is_overridden(sender, fake):
    result = sender.send(fake.webhook_url("1001", TOKEN) + "?wait=false", PAYLOAD)
    assert result.status == "sent"
    assert fake.requests[0].query == {"wait": "true"}


def test_429_really_waits_retry_after_then_succeeds(fake):
    fake.enqueue("1001", Behaviour.rate_limited(0.2))
    with DiscordWebhookSender(allowed_hosts={fake.host}) as sender:
        result = send(sender, fake)

    assert result.status == "sent"
    assert result.attempts == 2
    first, second = fake.requests
    assert second.time - first.time >= 0.2
    assert len(fake.messages("1001")) == 1


def test_429_waits_the_json_retry_after(sender, fake):
    fake.enqueue("1001", Behaviour.rate_limited(2.5))
    result = send(sender, fake)
    assert result.status == "sent"
    assert sender.waits == [2.5]
    assert len(fake.requests) == 2


def test_429_longer_than_the_inline_budget_returns_retry_without_sleeping(sender, fake):
    fake.enqueue("1001", Behaviour.rate_limited(60.0))
    result = send(sender, fake)

    assert result.status == "retry"
    assert result.retry_after_seconds == 60.0
    assert result.attempts == 1
    assert sender.waits == []
    assert fake.messages("1001") == []


def test_global_429_pauses_the_next_send_too(sender, fake):
    fake.enqueue("1001", Behaviour.rate_limited(20.0, global_=True))
    assert send(sender, fake).status == "sent"
    assert sender.waits == [20.0]

    # The recorded sleep did not advance the clock, so the pause is still on.
    result = send(sender, fake, "2002")
    assert result.status == "sent"
    assert len(sender.waits) == 2 and 19.0 < sender.waits[1] <= 20.0
    assert len(fake.requests) == 3


def test_global_429_beyond_the_budget_holds_back_other_sends(sender, fake):
    fake.enqueue("1001", Behaviour.rate_limited(120.0, global_=True))
    assert send(sender, fake).status == "retry"

    result = send(sender, fake, "2002")
    assert result.status == "retry"
    assert result.attempts == 0
    assert 100 < result.retry_after_seconds <= 120
    assert len(fake.requests) == 1


def test_404_is_dead_after_one_request(sender, fake):
    fake.set_gone("1001")
    result = send(sender, fake)

    assert result.status == "dead"
    assert result.attempts == 1
    assert len(fake.requests) == 1
    assert sender.waits == []
    assert "404" in result.error


def test_5xx_is_retried_with_backoff_then_gives_up(sender, fake):
    fake.enqueue("1001", Behaviour.error(500), times=3)
    result = send(sender, fake)

    assert result.status == "retry"
    assert result.attempts == 3
    assert len(fake.requests) == 3
    assert sender.waits == [0.5, 1.0]
    assert "500" in result.error


def test_5xx_then_success(sender, fake):
    fake.enqueue("1001", Behaviour.error(502))
    fake.enqueue("1001", Behaviour.error(503))
    result = send(sender, fake)
    assert result.status == "sent"
    assert result.attempts == 3
    assert len(fake.messages("1001")) == 1


def test_max_attempts_bounds_requests(fake):
    fake.enqueue("1001", Behaviour.error(503), times=5)
    with DiscordWebhookSender(max_attempts=1, allowed_hosts={fake.host}) as sender:
        sender.sleep = pytest.fail
        result = send(sender, fake)
    assert (result.status, result.attempts, len(fake.requests)) == ("retry", 1, 1)


def test_400_fails_with_discords_message_and_is_not_retried(sender, fake):
    fake.enqueue("1001", Behaviour.error(400, "Invalid Form Body " + "x" * 500))
    result = send(sender, fake)

    assert result.status == "failed"
    assert result.attempts == 1
    assert result.error.startswith("HTTP 400: Invalid Form Body")
    assert len(result.error) < 250
    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 405, 413])
def test_other_4xx_fail_without_retry(sender, fake, status):
    fake.enqueue("1001", Behaviour.error(status))
    result = send(sender, fake)
    assert (result.status, result.attempts, len(fake.requests)) == ("failed", 1, 1)
    assert str(status) in result.error


def test_persist_then_drop_is_unknown_and_not_resent(sender, fake):
    fake.enqueue("1001", Behaviour.persist_then_drop())
    result = send(sender, fake)

    assert result.status == "unknown"
    assert result.attempts == 1
    assert len(fake.requests) == 1
    assert fake.messages("1001") == [PAYLOAD]
    assert sender.waits == []


def test_read_timeout_after_persisting_is_unknown(fake):
    fake.enqueue("1001", Behaviour.persist_then_sleep(3.0))
    with DiscordWebhookSender(timeout_seconds=0.3, allowed_hosts={fake.host}) as sender:
        started = time.monotonic()
        result = send(sender, fake)

    assert result.status == "unknown"
    assert "ReadTimeout" in result.error
    assert result.attempts == 1
    assert time.monotonic() - started < 2.0
    assert fake.messages("1001") == [PAYLOAD]


def test_connection_refused_is_retried_then_retry():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{s.getsockname()[1]}"
    # The socket is closed: nothing listens on that port any more.
    with DiscordWebhookSender(allowed_hosts={host}) as sender:
        sender.waits = []
        sender.sleep = sender.waits.append
        result = sender.send(f"http://{host}/api/webhooks/1001/{TOKEN}", PAYLOAD)

    assert result.status == "retry"
    assert result.attempts == 3
    assert sender.waits == [0.5, 1.0]
    assert TOKEN not in result.error and host not in result.error


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/api/webhooks/1001/" + TOKEN,
        "http://discord.com/api/webhooks/1001/" + TOKEN,
        "not a url " + TOKEN,
    ],
)
def test_invalid_url_fails_without_any_request(sender, fake, url):
    result = sender.send(url, PAYLOAD)
    assert result.status == "failed"
    assert result.attempts == 0
    assert TOKEN not in result.error
    assert fake.requests == []


def test_fake_host_is_refused_unless_allowed(fake):
    with DiscordWebhookSender() as sender:
        result = sender.send(fake.webhook_url("1001", TOKEN), PAYLOAD)
    assert result.status == "failed"
    assert result.attempts == 0
    assert fake.requests == []


def test_payload_that_is_not_json_fails_before_sending(sender, fake):
    result = sender.send(fake.webhook_url("1001", TOKEN), {"content": {1, 2}})
    assert result.status == "failed"
    assert result.attempts == 0
    assert fake.requests == []


def test_fake_without_wait_answers_204(fake):
    response = requests.post(fake.webhook_url(), json={"content": "hi"}, timeout=5)
    assert response.status_code == 204
    assert fake.messages("1001") == [{"content": "hi"}]


def test_bucket_headers_pace_sends_so_discord_never_answers_429():
    with FakeDiscord(bucket_limit=5, bucket_window_seconds=1.0) as fake:
        with DiscordWebhookSender(allowed_hosts={fake.host}) as sender:
            waits = []
            sender.sleep = lambda seconds: (waits.append(seconds), time.sleep(seconds))
            results = [send(sender, fake) for _ in range(12)]

        assert fake.answered_429 == 0
        times = [request.time for request in fake.requests]
    assert [(r.status, r.attempts) for r in results] == [("sent", 1)] * 12
    assert len(fake.messages("1001")) == 12
    assert len(times) == 12
    # Waited for the reset after the 5th and the 10th message, each time the bucket's rest.
    assert len(waits) == 2 and all(0 < wait <= 1.0 for wait in waits)
    assert times[5] - times[0] >= 1.0 and times[10] - times[5] >= 1.0


def test_a_client_that_ignores_the_headers_gets_429s():
    with FakeDiscord(bucket_limit=5, bucket_window_seconds=2.0) as fake:
        url = fake.webhook_url("1001", TOKEN) + "?wait=true"
        responses = [requests.post(url, json={"content": f"{n}"}, timeout=5) for n in range(7)]

        assert fake.answered_429 == 2
        assert len(fake.messages("1001")) == 5
    assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == list("4321000")
    assert {r.headers["X-RateLimit-Limit"] for r in responses} == {"5"}
    limited = responses[5]
    assert limited.json()["global"] is False
    assert 0 < limited.json()["retry_after"] <= 2.0
    assert limited.headers["Retry-After"] in ("1", "2")
    assert float(limited.headers["X-RateLimit-Reset-After"]) == limited.json()["retry_after"]


def test_used_up_bucket_beyond_the_budget_returns_retry_without_sending():
    with (
        FakeDiscord(bucket_limit=1, bucket_window_seconds=60.0) as fake,
        recording_sender(fake, max_inline_wait_seconds=30.0) as sender,
    ):
        assert send(sender, fake).status == "sent"

        held_back = send(sender, fake)
        other_webhook = send(sender, fake, "2002")

        assert len(fake.requests) == 2 and fake.answered_429 == 0
    assert held_back.status == "retry"
    assert held_back.attempts == 0
    assert 50 < held_back.retry_after_seconds <= 60
    assert "bucket" in held_back.error
    # The count is per webhook, though Discord names the same bucket for all of them.
    assert other_webhook.status == "sent"
    assert sender.waits == []


@pytest.mark.parametrize("variable, scheme", [("HTTP_PROXY", "http"), ("HTTPS_PROXY", "https")])
def test_refused_proxy_connection_is_retry_not_unknown(sender, fake, monkeypatch, variable, scheme):
    isolate_proxy_settings(monkeypatch)
    monkeypatch.setenv(variable, f"http://127.0.0.1:{closed_port()}")
    url = fake.webhook_url("1001", TOKEN).replace("http://", f"{scheme}://")

    result = sender.send(url, PAYLOAD)

    # The proxy refused the connection, so nothing reached Discord: safe to resend.
    assert result.status == "retry"
    assert result.attempts == 3
    assert sender.waits == [0.5, 1.0]
    assert result.error.startswith("ProxyError")
    assert TOKEN not in result.error and fake.host not in result.error
    assert fake.requests == []


def test_drain_through_a_refused_proxy_leaves_the_row_to_retry(engine, fake, monkeypatch):
    now = utcnow()
    store_postings(engine, [posting(1)], now)
    research(engine, "acme", now)
    user_id = user(
        engine,
        "hook@example.com",
        discord_webhook=fake.webhook_url("1001", TOKEN),
        allowed_hosts={fake.host},
    )
    key = f"u{user_id}-j1"
    with engine.begin() as conn:
        inputs, _ = load_pair_inputs(conn, [key])
        analysis = MatchAnalysis(
            score=90, explanation="fit", pros=[], cons=[], recommendation="apply"
        )
        save_match(
            conn,
            inputs[key],
            analysis,
            model="test",
            prompt_version="v",
            now=now,
            outbox=NotificationOutbox(),
        )
    isolate_proxy_settings(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    with DiscordWebhookSender(allowed_hosts={fake.host}) as sender:
        sender.sleep = lambda seconds: None
        assert drain(engine, sender.send, lambda: now) == {"retry": 1}

    with engine.connect() as conn:
        row = conn.execute(sa.select(notifications)).one()
    assert row.status == "retry"
    assert row.next_attempt_at > now
    assert row.last_error.startswith("ProxyError") and TOKEN not in row.last_error
    assert fake.requests == []

    # The proxy is fixed: the next drain, once the row is due, delivers it.
    monkeypatch.delenv("HTTP_PROXY")
    later = row.next_attempt_at + timedelta(seconds=1)
    with DiscordWebhookSender(allowed_hosts={fake.host}) as sender:
        assert drain(engine, sender.send, lambda: later) == {"sent": 1}
    assert len(fake.messages("1001")) == 1
