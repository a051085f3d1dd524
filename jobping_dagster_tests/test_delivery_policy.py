"""Per-user delivery policy through the outbox: the instant band and the daily digest,
quiet hours (over midnight too), the daily cap, notices, and the once-only check."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import digest_matches, notifications
from jobping_dagster.notify.checks import high_score_matches_notified_exactly_once
from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.notify.outbox import drain, due_marker, enqueue_notice
from jobping_dagster.notify.policy import Policy, digest_due_at, quiet_until
from jobping_dagster.users.store import UserChanges, update_user
from jobping_dagster.users.validation import InvalidSetting
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.test_delivery_channels import NOW, SECRET, match, no_discord, rows

HOOK = "http://127.0.0.1:9/hook"
ALLOWED = {"127.0.0.1:9"}


class Channel:
    """A channel sender that records what it was given and answers `sent`."""

    def __init__(self):
        self.payloads: list[dict] = []

    def send(self, recipient, payload) -> DeliveryResult:
        self.payloads.append(payload)
        return DeliveryResult("sent")


@pytest.fixture
def postings(engine):
    store_postings(engine, [posting(n) for n in range(1, 8)], NOW)
    research(engine, "acme", NOW)


def hook_user(engine, **policy) -> int:
    return user(
        engine,
        "hook@example.com",
        channels="webhook",
        webhook_url=HOOK,
        webhook_secret=SECRET,
        allowed_hosts=ALLOWED,
        **policy,
    )


def drain_at(engine, at: datetime, channel: Channel):
    return drain(engine, no_discord, lambda: at, senders={"webhook": channel.send})


def test_below_the_instant_band_waits_for_one_digest_best_first(engine, postings):
    hook = hook_user(engine, instant_score=85, timezone="Europe/Berlin")
    match(engine, hook, 1, 90)
    match(engine, hook, 2, 75)
    match(engine, hook, 3, 80)
    match(engine, hook, 4, 60)  # below min_score 70: no notification at all
    channel = Channel()

    assert drain_at(engine, NOW, channel) == {"sent": 1}
    assert [p["type"] for p in channel.payloads] == ["match"]
    # The digest of Dec 4 (Berlin) goes out on Dec 5 at 08:00 Berlin = 07:00 UTC.
    assert drain_at(engine, datetime(2026, 12, 5, 6, 59), channel) == {}
    assert drain_at(engine, datetime(2026, 12, 5, 7, 0), channel) == {"sent": 1}
    assert drain_at(engine, datetime(2026, 12, 6, 7, 0), channel) == {}

    digest = channel.payloads[1]
    assert digest["type"] == "digest" and digest["day"] == "2026-12-04"
    assert [m["score"] for m in digest["matches"]] == [80, 75]
    all_rows = rows(engine)
    assert [(r.kind, r.channel, r.status) for r in all_rows] == [
        ("instant", "webhook", "sent"),
        ("digest", "webhook", "sent"),
    ]
    assert all_rows[1].match_id is None and all_rows[1].score == 80
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(digest_matches)).scalar() == 2
    assert high_score_matches_notified_exactly_once(AppDatabase(url=str(engine.url))).passed


def test_a_rescore_never_moves_a_digest_match_to_instant(engine, postings):
    hook = hook_user(engine, instant_score=85)
    match(engine, hook, 1, 75)
    match(engine, hook, 1, 95)  # rescored higher: already in the digest
    assert [r.kind for r in rows(engine)] == ["digest"]


def test_quiet_hours_over_midnight_hold_instant_messages_until_they_end(engine, postings):
    hook = hook_user(engine, quiet_hours="22:00-07:00", timezone="UTC")
    night = datetime(2026, 12, 4, 23, 30)
    match(engine, hook, 1, 90, now=night)
    channel = Channel()

    (row,) = rows(engine)
    assert row.status == "pending" and row.next_attempt_at == datetime(2026, 12, 5, 7, 0)
    with engine.connect() as conn:
        assert due_marker(conn, night) is None  # not due: no drain is requested
    assert drain_at(engine, datetime(2026, 12, 5, 6, 59), channel) == {}
    assert drain_at(engine, datetime(2026, 12, 5, 7, 0), channel) == {"sent": 1}
    assert len(channel.payloads) == 1


def test_a_row_claimed_in_quiet_hours_is_put_back_until_they_end(engine, postings):
    hook = hook_user(engine)
    match(engine, hook, 1, 90)
    with engine.begin() as conn:
        update_user(conn, "hook@example.com", UserChanges(quiet_hours="09:00-17:00"))
    channel = Channel()
    assert drain_at(engine, NOW, channel) == {"held": 1}  # 10:00 UTC
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.next_attempt_at) == (
        "pending",
        0,
        datetime(2026, 12, 4, 17, 0),
    )
    assert drain_at(engine, datetime(2026, 12, 4, 17, 0), channel) == {"sent": 1}


def test_beyond_the_daily_cap_matches_go_to_the_digest(engine, postings):
    hook = hook_user(engine, daily_cap=2)
    for job_id in (1, 2, 3, 4):
        match(engine, hook, job_id, 90)
    kinds = [r.kind for r in rows(engine)]
    assert kinds == ["instant", "instant", "digest"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(digest_matches.c.match_id)).scalars().all() == [3, 4]
    # The next (local) day the cap starts again.
    match(engine, hook, 5, 90, now=NOW + timedelta(days=1))
    assert [r.kind for r in rows(engine)][-1] == "instant"


def test_a_cap_of_zero_sends_everything_in_the_digest(engine, postings):
    hook = hook_user(engine, daily_cap=0)
    match(engine, hook, 1, 99)
    assert [r.kind for r in rows(engine)] == ["digest"]


def test_each_channel_gets_its_own_row_and_digest(engine, postings):
    hook = user(
        engine,
        "two@example.com",
        channels="email,webhook",
        webhook_url=HOOK,
        webhook_secret=SECRET,
        allowed_hosts=ALLOWED,
        instant_score=85,
    )
    match(engine, hook, 1, 90)
    match(engine, hook, 2, 75)
    assert sorted((r.kind, r.channel) for r in rows(engine)) == [
        ("digest", "email"),
        ("digest", "webhook"),
        ("instant", "email"),
        ("instant", "webhook"),
    ]


def test_a_notice_is_sent_once_per_key_on_each_channel(engine, postings):
    hook = hook_user(engine)
    plain = user(engine, "plain@example.com")
    with engine.begin() as conn:
        assert enqueue_notice(conn, hook, "budget:2026-12", "Budget used", "No more scoring", NOW)
        assert not enqueue_notice(conn, hook, "budget:2026-12", "Budget used", "again", NOW)
        assert enqueue_notice(conn, plain, "budget:2026-12", "Budget used", "No more", NOW)
    channel = Channel()
    assert drain_at(engine, NOW, channel) == {"sent": 1, "recorded": 1}
    assert channel.payloads == [
        {
            "type": "notice",
            "key": "budget:2026-12",
            "subject": "Budget used",
            "text": "No more scoring",
        }
    ]


def test_users_without_a_policy_keep_todays_behaviour(engine, postings):
    plain = user(engine, "plain@example.com")
    match(engine, plain, 1, 90)
    assert [(r.kind, r.channel) for r in rows(engine)] == [("instant", "table")]
    assert drain_at(engine, NOW, Channel()) == {"recorded": 1}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (UserChanges(timezone="Mars/Olympus"), "timezone"),
        (UserChanges(quiet_hours="22:00-22:00"), "quiet_hours"),
        (UserChanges(quiet_hours="25:00-07:00"), "quiet_hours"),
        (UserChanges(quiet_hours="22:00"), "quiet_hours"),
        (UserChanges(daily_cap=-1), "daily_cap"),
        (UserChanges(daily_cap="many"), "daily_cap"),
        (UserChanges(instant_score=101), "instant_score"),
        (UserChanges(instant_score=-5), "instant_score"),
        (UserChanges(channels="discord,sms"), "channels"),
        (UserChanges(channels="discord"), "channels"),  # no discord_webhook
        (UserChanges(channels="webhook"), "channels"),  # no webhook_url
        (UserChanges(channels="webhook", webhook_url=HOOK), "channels"),  # no secret
        (UserChanges(webhook_secret="short"), "webhook_secret"),
        (UserChanges(webhook_url="ftp://example.com/x"), "webhook_url"),
    ],
)
def test_bad_policy_values_are_refused_naming_the_field(engine, changes, field):
    user(engine, "ann@example.com")
    with engine.begin() as conn, pytest.raises(InvalidSetting) as refused:
        update_user(conn, "ann@example.com", changes, ALLOWED)
    assert refused.value.field == field


def _policy(quiet, zone="UTC") -> Policy:
    return Policy(("webhook",), 70, quiet, ZoneInfo(zone), None)


def test_quiet_windows_in_the_users_time_zone():
    overnight = _policy((time(22), time(7)), "America/New_York")
    # 23:00 New York = 04:00 UTC next day; ends 07:00 New York = 12:00 UTC.
    assert quiet_until(datetime(2026, 12, 5, 4, 0), overnight) == datetime(2026, 12, 5, 12, 0)
    # 02:00 New York (07:00 UTC): the same window.
    assert quiet_until(datetime(2026, 12, 5, 7, 0), overnight) == datetime(2026, 12, 5, 12, 0)
    assert quiet_until(datetime(2026, 12, 5, 12, 0), overnight) is None
    daytime = _policy((time(9), time(17)))
    assert quiet_until(datetime(2026, 12, 5, 8, 59), daytime) is None
    assert quiet_until(datetime(2026, 12, 5, 9, 0), daytime) == datetime(2026, 12, 5, 17, 0)
    # A digest due inside quiet hours waits for their end.
    late = _policy((time(6), time(10)), "Europe/Berlin")
    assert digest_due_at(date(2026, 12, 4), late) == datetime(2026, 12, 5, 9, 0)


def test_the_once_only_check_fails_for_a_match_both_instant_and_in_a_digest(engine, postings):
    hook = hook_user(engine, instant_score=85)
    match(engine, hook, 1, 75)
    match(engine, hook, 2, 90)
    with engine.begin() as conn:
        digest_id = conn.execute(
            sa.select(notifications.c.id).where(notifications.c.kind == "digest")
        ).scalar_one()
        conn.execute(
            digest_matches.insert().values(
                notification_id=digest_id, match_id=2, user_id=hook, channel="email",
                score=90, item={}, created_at=NOW,
            )
        )  # fmt: skip
    assert not high_score_matches_notified_exactly_once(AppDatabase(url=str(engine.url))).passed


def test_digests_on_discord_and_by_email_are_one_message_each(engine, postings):
    from jobping_dagster.notify.discord import DiscordWebhookSender
    from jobping_dagster_tests.fakes.discord_server import FakeDiscord
    from jobping_dagster_tests.fakes.receivers import FakeSMTP
    from jobping_dagster_tests.test_delivery_channels import email_sender

    with FakeDiscord() as discord, FakeSMTP() as smtp:
        both = user(
            engine,
            "both@example.com",
            channels="discord,email",
            discord_webhook=discord.webhook_url("1001"),
            allowed_hosts={discord.host},
            instant_score=95,
        )
        match(engine, both, 1, 75)
        match(engine, both, 2, 88)
        sender = DiscordWebhookSender(allowed_hosts={discord.host})
        senders = {"email": email_sender(smtp.port).send}
        morning = datetime(2026, 12, 5, 8, 0)
        assert drain(engine, sender.send, lambda: morning, senders=senders) == {"sent": 2}
        assert drain(engine, sender.send, lambda: morning, senders=senders) == {}

        (posted,) = discord.messages("1001")
        assert posted["content"] == "Your matches of Friday 4 December 2026: 2 matches"
        lines = posted["embeds"][0]["description"].splitlines()
        assert lines[0].startswith("**88**") and lines[1].startswith("**75**")
        (mail,) = smtp.messages
        assert mail["Subject"] == "Your matches of Friday 4 December 2026: 2 matches"
        text = mail.get_body(("plain",)).get_content()
        assert text.index("88/100") < text.index("75/100")
