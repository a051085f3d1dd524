"""Email and the signed generic webhook through the outbox, against real servers on
127.0.0.1 (aiosmtpd, an HTTP receiver that checks the signature as the README says), and
the unsubscribe link served by the API."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import notifications, users
from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.matching.store import load_pair_inputs, save_match
from jobping_dagster.notify.mail import EmailSender
from jobping_dagster.notify.outbox import MAX_DELIVERY_ATTEMPTS, drain, redrive
from jobping_dagster.notify.resources import NotificationOutbox
from jobping_dagster.notify.webhook import SignedWebhookSender
from jobping_dagster.users.store import UserChanges, add_user
from jobping_dagster.users.validation import InvalidSetting
from jobping_dagster_tests.api_support import api_client
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.receivers import FakeReceiver, FakeSMTP, free_port

NOW = datetime(2026, 12, 4, 10, 0)
SECRET = "whsec-0123456789abcdef-SECRET"
SMTP_PASSWORD = "smtp-password-SECRET-31"


def readme_verify():
    """The receiver's check exactly as README.md shows it."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("<!-- webhook-verify -->", 1)[1]
    code = block.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own README
    return namespace["verify"]


def no_discord(url, payload):
    raise AssertionError("nothing goes to Discord here")


def match(engine, user_id: int, job_id: int, score: int, now: datetime = NOW) -> None:
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
            now=now,
            outbox=NotificationOutbox(),
        )


def rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(notifications).order_by(notifications.c.id)).all()


@pytest.fixture
def postings(engine):
    store_postings(engine, [posting(n) for n in range(1, 6)], NOW)
    research(engine, "acme", NOW)


@pytest.fixture
def smtp():
    with FakeSMTP() as fake:
        yield fake


def email_sender(port: int, **kwargs) -> EmailSender:
    return EmailSender(
        "127.0.0.1", port, "JobPing <jobs@jobping.test>", "https://jobping.test", tls="none",
        timeout_seconds=5, **kwargs,
    )  # fmt: skip


def test_an_email_is_sent_once_with_text_html_and_one_click_unsubscribe(
    engine, postings, smtp, tmp_path
):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    senders = {"email": email_sender(smtp.port).send}

    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {"sent": 1}
    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {}

    assert len(smtp.messages) == 1
    message = smtp.messages[0]
    with engine.connect() as conn:
        token = conn.execute(sa.select(users.c.unsubscribe_token)).scalar_one()
    link = f"https://jobping.test/unsubscribe/{token}"
    assert message["To"] == "ann@example.com"
    assert message["List-Unsubscribe"] == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "Backend Engineer 1 at Acme" in text and link in text
    assert "Backend Engineer 1" in page and f'href="{link}"' in page
    assert "{{" not in text + page
    (row,) = rows(engine)
    assert (row.channel, row.status, row.kind) == ("email", "sent", "instant")
    assert token not in json.dumps(row.payloads)  # the token is added when sending only

    # The link: GET asks and changes nothing; the one-click POST unsubscribes.
    with api_client(engine, tmp_path) as client:
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200
        assert "<form" in page.text and "<script" not in page.text and token not in page.text
        with engine.connect() as conn:
            assert conn.execute(sa.select(users.c.email_unsubscribed_at)).scalar_one() is None
        done = client.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click")
        assert done.status_code == 200 and "unsubscribed" in done.text
        assert client.get("/unsubscribe/not-a-token-at-all-1234567").status_code == 404
    with engine.connect() as conn:
        assert conn.execute(sa.select(users.c.email_unsubscribed_at)).scalar_one() is not None

    match(engine, ann, 2, 95)
    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {"recorded": 1}
    assert len(smtp.messages) == 1


def test_an_unreachable_smtp_server_is_retried_then_failed_then_redriven_once(engine, postings):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    port = free_port()  # nothing listens yet
    senders = {"email": email_sender(port).send}
    clock = [NOW]
    for _ in range(MAX_DELIVERY_ATTEMPTS):
        drain(engine, no_discord, lambda: clock[0], senders=senders)
        clock[0] += timedelta(hours=2)
    (row,) = rows(engine)
    assert row.status == "failed"
    assert row.last_error.startswith(f"gave up after {MAX_DELIVERY_ATTEMPTS} attempts: SMTP")

    with FakeSMTP() as smtp:
        senders = {"email": email_sender(smtp.port).send}
        with engine.begin() as conn:
            assert redrive(conn, ["failed"]) == 1
        assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {"sent": 1}
        assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {}
        assert len(smtp.messages) == 1


def test_a_mailbox_that_refuses_fails_with_the_reason_and_no_address(engine, postings, smtp):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    smtp.refuse_rcpt = "550 5.1.1 <ann@example.com>: Recipient address rejected"
    assert drain(engine, no_discord, lambda: NOW, senders={"email": email_sender(smtp.port).send})
    (row,) = rows(engine)
    assert row.status == "failed"
    assert "550" in row.last_error and "mailbox refused" in row.last_error
    assert "ann@example.com" not in row.last_error
    assert smtp.messages == []


def test_the_smtp_password_never_appears_in_an_error(engine, postings, smtp):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    sender = email_sender(smtp.port, username="jobping", password=SMTP_PASSWORD)
    drain(engine, no_discord, lambda: NOW, senders={"email": sender.send})
    (row,) = rows(engine)
    assert row.status == "retry"  # this server offers no AUTH
    assert SMTP_PASSWORD not in (row.last_error or "") and SMTP_PASSWORD not in repr(sender)


@pytest.fixture
def receiver():
    with FakeReceiver(SECRET, readme_verify()) as fake:
        yield fake


def hook_user(engine, receiver, **policy) -> int:
    return user(
        engine,
        "hook@example.com",
        channels="webhook",
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        allowed_hosts={receiver.host},
        **policy,
    )


def test_a_webhook_is_signed_as_the_readme_says_and_sent_once(engine, postings, receiver):
    hook = hook_user(engine, receiver)
    match(engine, hook, 1, 90)
    senders = {"webhook": SignedWebhookSender(allowed_hosts={receiver.host}).send}

    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {"sent": 1}
    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {}

    assert receiver.refused_signatures == 0
    ((headers, body),) = receiver.accepted
    sent = json.loads(body)
    assert sent["type"] == "match" and sent["score"] == 90
    assert sent["job"]["title"] == "Backend Engineer 1"
    assert headers["X-JobPing-Delivery"] == sent["id"]
    assert headers["X-JobPing-Signature"].startswith("v1=")
    # A body changed in transit no longer verifies.
    assert not readme_verify()(SECRET, headers, body.replace(b"90", b"99"))
    assert not readme_verify()("another-secret-0123456789", headers, body)


def test_a_5xx_or_a_timeout_is_retried_with_backoff_and_delivered_once(engine, postings, receiver):
    hook = hook_user(engine, receiver)
    match(engine, hook, 1, 90)
    sender = SignedWebhookSender(allowed_hosts={receiver.host}, timeout_seconds=0.5)
    senders = {"webhook": sender.send}
    receiver.script.extend([503])
    clock = [NOW]

    assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {"retry": 1}
    assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {}  # backing off
    (row,) = rows(engine)
    assert row.last_error == "HTTP 503" and row.next_attempt_at == NOW + timedelta(minutes=1)

    receiver.delay = 1.0
    clock[0] += timedelta(minutes=1)
    assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {"retry": 1}
    assert "no answer" in rows(engine)[0].last_error

    receiver.delay = 0
    clock[0] += timedelta(minutes=5)
    assert drain(engine, no_discord, lambda: clock[0], senders=senders) == {"sent": 1}
    ids = {json.loads(body)["id"] for _, body in receiver.accepted}
    assert len(ids) == 1  # the timed-out attempt (if it arrived) carries the same delivery id


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data/"]
)
def test_internal_addresses_are_refused_when_saved_and_when_sent(engine, postings, url):
    with engine.begin() as conn, pytest.raises(InvalidSetting) as refused:
        add_user(
            conn,
            "x@example.com",
            UserChanges(channels="webhook", webhook_url=url, webhook_secret=SECRET),
        )
    assert refused.value.field == "webhook_url" and url not in str(refused.value)

    # Stored anyway (e.g. before the rule, or by hand): the send refuses it too.
    hook = user(engine, "hook@example.com")
    with engine.begin() as conn:
        conn.execute(
            users.update().values(channels="webhook", webhook_url=url, webhook_secret=SECRET)
        )
    match(engine, hook, 1, 90)
    senders = {"webhook": SignedWebhookSender().send}
    assert drain(engine, no_discord, lambda: NOW, senders=senders) == {"failed": 1}
    (row,) = rows(engine)
    assert "refused" in row.last_error and url not in row.last_error


def test_a_host_whose_dns_changed_to_an_internal_address_is_refused_at_send(engine, postings):
    hook = user(engine, "hook@example.com")
    with engine.begin() as conn:
        conn.execute(
            users.update().values(
                channels="webhook",
                webhook_url="https://hooks.example.com/in",
                webhook_secret=SECRET,
            )
        )
    match(engine, hook, 1, 90)
    sender = SignedWebhookSender()
    sender.resolve = lambda host, port, type=0: [  # noqa: A006
        (2, 1, 6, "", ("93.184.216.34", port)),
        (2, 1, 6, "", ("169.254.169.254", port)),
    ]
    assert drain(engine, no_discord, lambda: NOW, senders={"webhook": sender.send}) == {"failed": 1}


def test_http_is_refused_unless_the_host_is_allowed(engine):
    with engine.begin() as conn, pytest.raises(InvalidSetting, match="webhook_url: must use"):
        add_user(conn, "x@example.com", UserChanges(webhook_url="http://example.com/hook"))


def test_secrets_are_masked_in_the_api_and_policy_is_settable(engine, tmp_path, receiver):
    from jobping_dagster_tests.api_support import sign_up

    env = {"JOBPING_WEBHOOK_ALLOWED_HOSTS": receiver.host}
    with api_client(engine, tmp_path, **env) as client:
        headers = sign_up(client, "ann@example.com")
        answer = client.patch(
            "/api/me",
            headers=headers,
            json={
                "channels": ["email", "webhook"],
                "webhook_url": receiver.url,
                "webhook_secret": SECRET,
                "instant_score": 85,
                "quiet_hours": "22:00-07:00",
                "timezone": "Europe/Berlin",
                "daily_cap": 3,
            },
        )
        assert answer.status_code == 200, answer.text
        me = answer.json()
        assert me["channels"] == ["email", "webhook"]
        assert (me["instant_score"], me["daily_cap"]) == (85, 3)
        assert (me["quiet_hours"], me["timezone"]) == ("22:00-07:00", "Europe/Berlin")
        assert me["webhook_secret"] == "****" and me["webhook_url"] == "http://127.0.0.1/…"
        assert SECRET not in answer.text and "/hooks/jobping" not in answer.text
        assert SECRET not in client.get("/api/me", headers=headers).text

        for field, value in [
            ("timezone", "Mars/Olympus"),
            ("quiet_hours", "07:00-07:00"),
            ("quiet_hours", "7pm-8am"),
            ("daily_cap", -1),
            ("instant_score", 101),
            ("channels", ["sms"]),
        ]:
            refused = client.patch("/api/me", headers=headers, json={field: value})
            assert refused.status_code == 422, (field, value)
            assert refused.json()["detail"][0]["loc"][-1] == field, refused.text
        cleared = client.patch("/api/me", headers=headers, json={"daily_cap": "", "channels": []})
        assert cleared.json()["daily_cap"] is None and cleared.json()["channels"] == []


def test_the_access_log_never_shows_an_unsubscribe_token(engine, tmp_path, caplog):
    import logging

    token = "T0ken-that-must-not-be-logged-123456"
    with api_client(engine, tmp_path) as client:
        client.get(f"/unsubscribe/{token}")
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/unsubscribe/{token}?x=1", "1.1", 200), None,
    )  # fmt: skip
    for log_filter in logging.getLogger("uvicorn.access").filters:
        log_filter.filter(record)
    assert token not in record.getMessage() and "/unsubscribe/****" in record.getMessage()


def test_a_receiver_failing_every_time_is_given_up_with_the_reason(engine, postings, receiver):
    hook = hook_user(engine, receiver)
    match(engine, hook, 1, 90)
    receiver.script.extend([500] * MAX_DELIVERY_ATTEMPTS)
    senders = {"webhook": SignedWebhookSender(allowed_hosts={receiver.host}).send}
    clock = [NOW]
    for _ in range(MAX_DELIVERY_ATTEMPTS + 2):
        drain(engine, no_discord, lambda: clock[0], senders=senders)
        clock[0] += timedelta(hours=2)
    (row,) = rows(engine)
    assert (row.status, row.attempts) == ("failed", MAX_DELIVERY_ATTEMPTS)
    assert row.last_error == f"gave up after {MAX_DELIVERY_ATTEMPTS} attempts: HTTP 500"
    assert receiver.requests == MAX_DELIVERY_ATTEMPTS and receiver.accepted == []


def test_starttls_and_authentication_from_the_settings(engine, postings, tmp_path):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    match(engine, ann, 2, 91)
    with FakeSMTP(login=("jobping", SMTP_PASSWORD), tmp_dir=tmp_path) as smtp:
        wrong = EmailSender(
            "127.0.0.1", smtp.port, "jobs@jobping.test", "https://jobping.test",
            tls="starttls", username="jobping", password="not-the-password-SECRET",
            ssl_context=smtp.client_context, timeout_seconds=5,
        )  # fmt: skip
        right = EmailSender(
            "127.0.0.1", smtp.port, "jobs@jobping.test", "https://jobping.test",
            tls="starttls", username="jobping", password=SMTP_PASSWORD,
            ssl_context=smtp.client_context, timeout_seconds=5,
        )  # fmt: skip
        recipient_rows = rows(engine)
        first = wrong.send(
            _recipient(engine, recipient_rows[0].id), recipient_rows[0].payloads["email"]
        )
        assert first.status == "failed", first.error
        assert "authentication refused (535)" in first.error
        assert "SECRET" not in first.error
        assert drain(engine, no_discord, lambda: NOW, senders={"email": right.send}) == {"sent": 2}
        assert len(smtp.messages) == 2


def _recipient(engine, notification_id: int):
    from jobping_dagster.notify.outbox import Recipient

    with engine.connect() as conn:
        row = conn.execute(sa.select(users)).one()
    return Recipient(notification_id, row.email, row.unsubscribe_token, None, None)


def test_implicit_tls(engine, postings, tmp_path):
    ann = user(engine, "ann@example.com", channels="email")
    match(engine, ann, 1, 90)
    with FakeSMTP(tmp_dir=tmp_path, implicit_tls=True) as smtp:
        sender = EmailSender(
            "127.0.0.1", smtp.port, "jobs@jobping.test", "https://jobping.test", tls="ssl",
            ssl_context=smtp.client_context, timeout_seconds=5,
        )  # fmt: skip
        assert drain(engine, no_discord, lambda: NOW, senders={"email": sender.send}) == {"sent": 1}
        assert len(smtp.messages) == 1


def test_https_to_a_pinned_address_checks_the_certificate(engine, postings, tmp_path):
    with FakeReceiver(SECRET, readme_verify(), tls_dir=tmp_path) as tls_receiver:
        hook = hook_user(engine, tls_receiver)
        match(engine, hook, 1, 90)
        trusting = SignedWebhookSender(allowed_hosts={tls_receiver.host})
        trusting.ssl_context = tls_receiver.client_context
        untrusting = SignedWebhookSender(allowed_hosts={tls_receiver.host})

        assert drain(engine, no_discord, lambda: NOW, senders={"webhook": untrusting.send}) == {
            "retry": 1
        }  # a certificate JobPing does not trust: nothing is sent
        assert tls_receiver.requests == 0
        later = NOW + timedelta(minutes=5)
        assert drain(engine, no_discord, lambda: later, senders={"webhook": trusting.send}) == {
            "sent": 1
        }
        assert len(tls_receiver.accepted) == 1
