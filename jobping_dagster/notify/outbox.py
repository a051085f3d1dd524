"""The notification outbox: rows added in the match's transaction (one per match and
channel, or the match linked into the day's digest row), then delivered by drains, each row
claimed before sending what it holds and the outcome recorded.

Claiming is a conditional UPDATE (pending/retry -> sending), so two drains running at once
never deliver the same row. A row left in `sending` by a worker that died is marked
`unknown`, never resent automatically: see "Delivery guarantees" in the README.

The user's policy (policy.py) decides at enqueue whether a match is instant (one row per
channel) or goes to the digest (one row per user, local day and channel, the matches in
`digest_matches`), and whether the daily cap is reached; quiet hours hold a row (pending
with `next_attempt_at`) when it is added and again when it is claimed."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from jobping_dagster.db.schema import digest_matches, notifications, users
from jobping_dagster.matching.high_scores import HighScore
from jobping_dagster.notify.channels import build_digest, build_notice, digest_item
from jobping_dagster.notify.message import format_notification_text
from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.notify.policy import (
    Policy,
    day_bounds,
    digest_due_at,
    local_day,
    policy_of,
    quiet_until,
)
from jobping_dagster.notify.render import RENDERERS, notification_view

STALE_SENDING = timedelta(minutes=10)
# A notification due for longer than this means drains are failing: the notification
# sensor warns on each tick and the `notifications_are_flowing` check fails.
STALLED_AFTER = timedelta(minutes=10)
MAX_DELIVERY_ATTEMPTS = 6
OPEN_STATUSES = ("pending", "retry")
# What an operator may send again after fixing the cause (`jobping notifications redrive`).
REDRIVABLE_STATUSES = ("failed", "dead", "unknown", "retry")
TABLE = "table"


@dataclass(frozen=True)
class Recipient:
    """Where an email or webhook notification goes. Holds secrets: never log it."""

    notification_id: int
    email: str
    unsubscribe_token: str | None
    webhook_url: str | None
    webhook_secret: str | None


# A channel's sender: (recipient, payload) -> what happened. Discord's keeps its
# (webhook_url, payload) form: `drain`'s `send`.
ChannelSender = Callable[[Recipient, dict], DeliveryResult]


def _insert(conn: sa.Connection, table: sa.Table, index_elements: list[str]):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=index_elements)


def _user_for_update(conn: sa.Connection, user_id: int):
    query = sa.select(users).where(users.c.id == user_id)
    if conn.dialect.name == "postgresql":
        # Serialises one user's enqueues, so two matches at once cannot both pass the cap.
        query = query.with_for_update()
    return conn.execute(query).one()


def _already_notified(conn: sa.Connection, match_id: int) -> bool:
    instant = sa.select(notifications.c.id).where(notifications.c.match_id == match_id)
    digest = sa.select(digest_matches.c.match_id).where(digest_matches.c.match_id == match_id)
    return conn.execute(sa.select(sa.or_(sa.exists(instant), sa.exists(digest)))).scalar_one()


def ensure_unsubscribe_token(conn: sa.Connection, user) -> str:
    if user.unsubscribe_token:
        return user.unsubscribe_token
    token = secrets.token_urlsafe(32)
    conn.execute(
        users.update()
        .where(users.c.id == user.id)
        .where(users.c.unsubscribe_token.is_(None))
        .values(unsubscribe_token=token)
    )
    return conn.execute(
        sa.select(users.c.unsubscribe_token).where(users.c.id == user.id)
    ).scalar_one()


def enqueue(conn: sa.Connection, high_score: HighScore, now: datetime) -> bool:
    """Adds the high score's notification as the user's policy says, its messages rendered
    now, unless the match has one already (a rescore never notifies again). Runs in the
    match's transaction; True when added."""
    if _already_notified(conn, high_score.match_id):
        return False
    user = _user_for_update(conn, high_score.user_id)
    policy = policy_of(user)
    view = notification_view(
        high_score.job, high_score.analysis, high_score.model, high_score.company
    )
    score = high_score.analysis.score
    base = {
        "match_id": high_score.match_id,
        "user_id": high_score.user_id,
        "job_id": high_score.job_id,
        "score": score,
        "kind": "instant",
        "message": format_notification_text(view),
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }
    if not policy.channels:
        statement = _insert(conn, notifications, ["match_id", "channel"])
        return conn.execute(statement, {**base, "channel": TABLE, "payloads": {}}).rowcount == 1
    if "email" in policy.channels:
        ensure_unsubscribe_token(conn, user)
    day = local_day(now, policy)
    if _instant(conn, high_score.user_id, policy, score, day):
        hold = quiet_until(now, policy)
        statement = _insert(conn, notifications, ["match_id", "channel"])
        rows = [
            {**base, "channel": ch, "payloads": {ch: RENDERERS[ch](view)}, "next_attempt_at": hold}
            for ch in policy.channels
        ]
        return conn.execute(statement, rows).rowcount > 0
    item = digest_item(view)
    for channel in policy.channels:
        digest_id = _open_digest(conn, high_score.user_id, channel, day, policy, now)
        conn.execute(
            _insert(conn, digest_matches, ["match_id", "channel"]),
            {
                "notification_id": digest_id,
                "match_id": high_score.match_id,
                "user_id": high_score.user_id,
                "channel": channel,
                "score": score,
                "item": item,
                "created_at": now,
            },
        )
        # The digest row shows its best match (GET /api/notifications lists it so).
        conn.execute(
            notifications.update()
            .where(notifications.c.id == digest_id)
            .where(sa.or_(notifications.c.score.is_(None), notifications.c.score < score))
            .values(score=score, job_id=high_score.job_id)
        )
    return True


def _instant(conn: sa.Connection, user_id: int, policy: Policy, score: int, day: date) -> bool:
    """At or above the instant band, unless the day's cap of instant matches is reached."""
    if score < policy.instant_score:
        return False
    if policy.daily_cap is None:
        return True
    start, end = day_bounds(day, policy)
    instant_today = conn.execute(
        sa.select(sa.func.count(sa.distinct(notifications.c.match_id))).where(
            notifications.c.user_id == user_id,
            notifications.c.kind == "instant",
            notifications.c.channel != TABLE,
            notifications.c.created_at >= start,
            notifications.c.created_at < end,
        )
    ).scalar_one()
    return instant_today < policy.daily_cap


def _open_digest(
    conn: sa.Connection, user_id: int, channel: str, day: date, policy: Policy, now: datetime
) -> int:
    """The digest row of the user's `day` on `channel`, added if needed. A digest already
    claimed or sent takes nothing more: the match goes to the next day's."""
    for _ in range(7):
        key = f"digest:{day.isoformat()}"
        row = conn.execute(
            sa.select(notifications.c.id, notifications.c.status).where(
                notifications.c.user_id == user_id,
                notifications.c.channel == channel,
                notifications.c.dedup_key == key,
            )
        ).first()
        if row is None:
            conn.execute(
                _insert(conn, notifications, ["user_id", "channel", "dedup_key"]),
                {
                    "user_id": user_id,
                    "kind": "digest",
                    "channel": channel,
                    "dedup_key": key,
                    "message": f"Daily digest for {day.isoformat()}",
                    "payloads": {},
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": digest_due_at(day, policy),
                    "created_at": now,
                },
            )
            continue  # read it back (a concurrent enqueue may have added it first)
        if row.status == "pending":
            return row.id
        day += timedelta(days=1)
    raise RuntimeError("no open digest within a week")  # pragma: no cover


def enqueue_notice(
    conn: sa.Connection, user_id: int, key: str, subject: str, text: str, now: datetime
) -> bool:
    """Tells the user something once through their channels (the table when they have
    none), e.g. that their monthly LLM budget is used up. Idempotent per `key` (up to 100
    characters, e.g. "budget:2026-12"): True when added now, False when it was already."""
    if not key or len(key) > 100:
        raise ValueError("key must be 1 to 100 characters")
    user = conn.execute(sa.select(users).where(users.c.id == user_id)).one()
    channels = policy_of(user).channels or (TABLE,)
    if "email" in channels:
        ensure_unsubscribe_token(conn, user)
    statement = _insert(conn, notifications, ["user_id", "channel", "dedup_key"])
    rows = [
        {
            "user_id": user_id,
            "kind": "notice",
            "channel": channel,
            "dedup_key": f"notice:{key}",
            "message": " ".join(f"{subject}: {text}".split())[:500],
            "payloads": {}
            if channel == TABLE
            else {channel: build_notice(channel, key, subject, text)},
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        }
        for channel in channels
    ]
    return conn.execute(statement, rows).rowcount > 0


def recover_stale_sending(conn: sa.Connection, now: datetime) -> int:
    result = conn.execute(
        notifications.update()
        .where(notifications.c.status == "sending")
        .where(notifications.c.claimed_at < now - STALE_SENDING)
        .values(status="unknown", last_error="delivery interrupted: the worker stopped mid-send")
    )
    return result.rowcount


def redrive(conn: sa.Connection, statuses: list[str], user_id: int | None = None) -> int:
    """Puts notifications back to `pending` with a fresh attempt count: the next drain sends
    them. An `unknown` row may already have been delivered, so re-driving it accepts a
    duplicate."""
    unknown = sorted(set(statuses) - set(REDRIVABLE_STATUSES))
    if unknown:
        raise ValueError(
            f"--status must be among {', '.join(REDRIVABLE_STATUSES)} (got {', '.join(unknown)})"
        )
    query = notifications.update().where(notifications.c.status.in_(statuses))
    if user_id is not None:
        query = query.where(notifications.c.user_id == user_id)
    result = conn.execute(
        query.values(status="pending", attempts=0, next_attempt_at=None, claimed_at=None)
    )
    return result.rowcount


def due_notification_ids(conn: sa.Connection, now: datetime, limit: int) -> list[int]:
    query = sa.select(notifications.c.id).where(_due(now)).order_by(notifications.c.id).limit(limit)
    return list(conn.execute(query).scalars())


def claim(conn: sa.Connection, notification_id: int, now: datetime) -> bool:
    result = conn.execute(
        notifications.update()
        .where(notifications.c.id == notification_id)
        .where(notifications.c.status.in_(OPEN_STATUSES))
        .values(status="sending", claimed_at=now, attempts=notifications.c.attempts + 1)
    )
    return result.rowcount == 1


def _delivery_row(conn: sa.Connection, notification_id: int):
    """The row and its recipient's current settings."""
    row = conn.execute(sa.select(notifications).where(notifications.c.id == notification_id)).one()
    user = conn.execute(sa.select(users).where(users.c.id == row.user_id)).one()
    return row, user


def _retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    backoff = min(60 * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=max(backoff, retry_after or 0))


def _outcome_values(result: DeliveryResult, attempts: int, now: datetime, channel: str) -> dict:
    if result.status == "sent":
        return {
            "status": "sent",
            "discord_message_id": result.message_id if channel == "discord" else None,
            "delivered_at": now,
            "last_error": None,
        }
    if result.status == "retry" and attempts < MAX_DELIVERY_ATTEMPTS:
        return {
            "status": "retry",
            "last_error": result.error,
            "next_attempt_at": now + _retry_delay(attempts, result.retry_after_seconds),
        }
    if result.status == "retry":
        return {
            "status": "failed",
            "last_error": f"gave up after {attempts} attempts: {result.error}",
        }
    return {"status": result.status, "last_error": result.error}


_UNUSABLE = {
    "discord": "the Discord webhook was removed or Discord answered 404: recorded only",
    "email": "the user unsubscribed from email: recorded only",
    "webhook": "the webhook was removed: recorded only",
}


def deliver_one(
    engine: sa.Engine,
    notification_id: int,
    send: Callable[[str, dict], DeliveryResult],
    now: Callable[[], datetime],
    senders: Mapping[str, ChannelSender] | None = None,
) -> str:
    """Claims and delivers one notification; returns its new status ("" if another drain
    claimed it first, "held" when quiet hours put it back until they end). `send` is
    Discord's sender, `senders` the other channels' (email, webhook)."""
    with engine.begin() as conn:
        if not claim(conn, notification_id, now()):
            return ""
        row, user = _delivery_row(conn, notification_id)
        policy = policy_of(user)
        hold = quiet_until(now(), policy) if row.channel != TABLE else None
        if hold is not None:
            conn.execute(
                notifications.update()
                .where(notifications.c.id == notification_id)
                .values(
                    status="pending",
                    next_attempt_at=hold,
                    claimed_at=None,
                    attempts=notifications.c.attempts - 1,
                )
            )
            return "held"
        token = None
        if row.channel == "email" and row.channel in policy.channels:
            token = ensure_unsubscribe_token(conn, user)
        items = []
        if row.kind == "digest":
            items = list(
                conn.execute(
                    sa.select(digest_matches.c.item)
                    .where(digest_matches.c.notification_id == notification_id)
                    .order_by(digest_matches.c.score.desc(), digest_matches.c.match_id)
                ).scalars()
            )
    values = _deliver(row, user, policy, items, token, send, senders or {}, now)
    with engine.begin() as conn:
        conn.execute(
            notifications.update().where(notifications.c.id == notification_id).values(**values)
        )
        if values["status"] == "dead" and row.channel == "discord":
            conn.execute(
                users.update().where(users.c.id == row.user_id).values(webhook_dead_at=now())
            )
    return values["status"]


def _deliver(row, user, policy, items, token, send, senders, now) -> dict:
    channel = row.channel
    if channel == TABLE:
        return {"status": "recorded", "delivered_at": now()}
    if channel not in policy.channels:
        return {"status": "recorded", "delivered_at": now(), "last_error": _UNUSABLE[channel]}
    values: dict = {}
    if row.kind == "digest":
        if not items:
            return {"status": "recorded", "delivered_at": now(), "last_error": "nothing left"}
        day = date.fromisoformat(row.dedup_key.split(":", 1)[1])
        payload = build_digest(channel, day, items)
        values["payloads"] = {channel: payload}
        values["message"] = f"Daily digest for {day.isoformat()}: {len(items)} matches"
    else:
        payload = (row.payloads or {}).get(channel)
    if payload is None:
        # Only a row migration 0004 could not render (its stored match did not validate).
        return {"status": "failed", "last_error": "no message rendered"}
    if channel == "discord":
        result = send(user.discord_webhook_url, payload)
    elif channel not in senders:
        return {"status": "failed", "last_error": f"the {channel} channel is not configured"}
    else:
        recipient = Recipient(
            notification_id=row.id,
            email=user.email,
            unsubscribe_token=token,
            webhook_url=user.webhook_url,
            webhook_secret=user.webhook_secret,
        )
        result = senders[channel](recipient, payload)
    return {**values, **_outcome_values(result, row.attempts, now(), channel)}


def drain(
    engine: sa.Engine,
    send: Callable[[str, dict], DeliveryResult],
    now: Callable[[], datetime],
    limit: int = 1000,
    senders: Mapping[str, ChannelSender] | None = None,
) -> Counter[str]:
    """Delivers every due notification (up to `limit`); counts outcomes by status."""
    outcomes: Counter[str] = Counter()
    with engine.begin() as conn:
        outcomes["recovered_as_unknown"] = recover_stale_sending(conn, now())
        due = due_notification_ids(conn, now(), limit)
    for notification_id in due:
        status = deliver_one(engine, notification_id, send, now, senders)
        if status:
            outcomes[status] += 1
    return +outcomes


def outbox_counts(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(notifications.c.status, sa.func.count()).group_by(notifications.c.status)
    return {status: count for status, count in conn.execute(query)}


def _due(now: datetime):
    return sa.or_(
        sa.and_(
            notifications.c.status == "pending",
            sa.or_(
                notifications.c.next_attempt_at.is_(None), notifications.c.next_attempt_at <= now
            ),
        ),
        sa.and_(notifications.c.status == "retry", notifications.c.next_attempt_at <= now),
    )


def oldest_due_since(conn: sa.Connection, now: datetime) -> datetime | None:
    """Since when the longest-waiting due notification has been due (None: nothing due): a
    pending one since it was created (or since the time it waited for: quiet hours, a
    digest's morning), a retry since its next attempt time."""
    due_since = sa.case(
        (
            notifications.c.status == "pending",
            sa.func.coalesce(notifications.c.next_attempt_at, notifications.c.created_at),
        ),
        else_=notifications.c.next_attempt_at,
    )
    return conn.execute(sa.select(sa.func.min(due_since)).where(_due(now))).scalar_one()


def due_marker(conn: sa.Connection, now: datetime) -> str | None:
    """Names the set of notifications due now (None when nothing is due). It changes when a
    notification is added, attempted or comes due, so a sensor can request one drain per
    state."""
    query = sa.select(
        sa.func.count(), sa.func.max(notifications.c.id), sa.func.sum(notifications.c.attempts)
    ).where(_due(now))
    count, max_id, attempts = conn.execute(query).one()
    return f"{max_id}:{attempts or 0}:{count}" if count else None
