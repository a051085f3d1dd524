"""The notification outbox: a high score's row is added with its match, its messages
already rendered (render.py); a drain claims each due row, sends what it holds and records
the outcome.

Claiming is a conditional UPDATE (pending/retry -> sending), so two drains running at once
never deliver the same row. A row left in `sending` by a worker that died is marked
`unknown`, never resent automatically: see "Delivery guarantees" in the README."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from jobping_dagster.db.schema import notifications, users
from jobping_dagster.matching.high_scores import HighScore
from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.notify.render import notification_view, render

STALE_SENDING = timedelta(minutes=10)
# A notification due for longer than this means drains are failing: the notification
# sensor warns on each tick and the `notifications_are_flowing` check fails.
STALLED_AFTER = timedelta(minutes=10)
MAX_DELIVERY_ATTEMPTS = 6
OPEN_STATUSES = ("pending", "retry")
# What an operator may send again after fixing the cause (`jobping notifications redrive`).
REDRIVABLE_STATUSES = ("failed", "dead", "unknown", "retry")


def enqueue(conn: sa.Connection, high_score: HighScore, now: datetime) -> bool:
    """Adds the high score's notification, its messages rendered now, unless its match has
    one already (a rescore never notifies again). Runs in the match's transaction; True
    when added."""
    view = notification_view(
        high_score.job, high_score.analysis, high_score.model, high_score.company
    )
    rendered = render(view)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(notifications).on_conflict_do_nothing(index_elements=["match_id"])
    result = conn.execute(
        statement,
        {
            "match_id": high_score.match_id,
            "user_id": high_score.user_id,
            "job_id": high_score.job_id,
            "score": high_score.analysis.score,
            "message": rendered.message,
            "payloads": rendered.payloads,
            "status": "pending",
            "attempts": 0,
            "created_at": now,
        },
    )
    return result.rowcount == 1


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
    them. An `unknown` row may already be on Discord, so re-driving it accepts a duplicate."""
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
    """The rendered messages and the recipient's current destination."""
    query = (
        sa.select(
            notifications.c.attempts,
            notifications.c.payloads,
            notifications.c.user_id.label("recipient_id"),
            users.c.discord_webhook_url,
            users.c.webhook_dead_at,
        )
        .join(users, users.c.id == notifications.c.user_id)
        .where(notifications.c.id == notification_id)
    )
    return conn.execute(query).one()


def _retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    backoff = min(60 * 2 ** (attempts - 1), 3600)
    return timedelta(seconds=max(backoff, retry_after or 0))


def _outcome_values(result: DeliveryResult, attempts: int, now: datetime) -> dict:
    if result.status == "sent":
        return {
            "status": "sent",
            "discord_message_id": result.message_id,
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


def deliver_one(
    engine: sa.Engine,
    notification_id: int,
    send: Callable[[str, dict], DeliveryResult],
    now: Callable[[], datetime],
) -> str:
    """Claims and delivers one notification; returns its new status ("" if another drain
    claimed it first)."""
    with engine.begin() as conn:
        if not claim(conn, notification_id, now()):
            return ""
        row = _delivery_row(conn, notification_id)
    webhook_live = row.discord_webhook_url and row.webhook_dead_at is None
    payload = row.payloads.get("discord")
    values: dict
    if webhook_live and payload is not None:
        result = send(row.discord_webhook_url, payload)
        values = {"channel": "discord", **_outcome_values(result, row.attempts, now())}
    elif webhook_live:
        # Only a row migration 0004 could not render (its stored match did not validate).
        values = {"channel": "discord", "status": "failed", "last_error": "no message rendered"}
    else:
        values = {"channel": "table", "status": "recorded", "delivered_at": now()}
        if row.webhook_dead_at is not None:
            values["last_error"] = "Discord webhook disabled after Discord answered 404"
    with engine.begin() as conn:
        conn.execute(
            notifications.update().where(notifications.c.id == notification_id).values(**values)
        )
        if values["status"] == "dead":
            conn.execute(
                users.update().where(users.c.id == row.recipient_id).values(webhook_dead_at=now())
            )
    return values["status"]


def drain(
    engine: sa.Engine,
    send: Callable[[str, dict], DeliveryResult],
    now: Callable[[], datetime],
    limit: int = 1000,
) -> Counter[str]:
    """Delivers every due notification (up to `limit`); counts outcomes by status."""
    outcomes: Counter[str] = Counter()
    with engine.begin() as conn:
        outcomes["recovered_as_unknown"] = recover_stale_sending(conn, now())
        due = due_notification_ids(conn, now(), limit)
    for notification_id in due:
        status = deliver_one(engine, notification_id, send, now)
        if status:
            outcomes[status] += 1
    return +outcomes


def outbox_counts(conn: sa.Connection) -> dict[str, int]:
    query = sa.select(notifications.c.status, sa.func.count()).group_by(notifications.c.status)
    return {status: count for status, count in conn.execute(query)}


def _due(now: datetime):
    return sa.or_(
        notifications.c.status == "pending",
        sa.and_(notifications.c.status == "retry", notifications.c.next_attempt_at <= now),
    )


def oldest_due_since(conn: sa.Connection, now: datetime) -> datetime | None:
    """Since when the longest-waiting due notification has been due (None: nothing due): a
    pending one since it was created, a retry since its next attempt time."""
    due_since = sa.case(
        (notifications.c.status == "pending", notifications.c.created_at),
        else_=notifications.c.next_attempt_at,
    )
    return conn.execute(sa.select(sa.func.min(due_since)).where(_due(now))).scalar_one()


def due_marker(conn: sa.Connection, now: datetime) -> str | None:
    """Names the set of notifications due now (None when nothing is due). It changes when a
    notification is added or attempted, so a sensor can request one drain per state."""
    query = sa.select(
        sa.func.count(), sa.func.max(notifications.c.id), sa.func.sum(notifications.c.attempts)
    ).where(_due(now))
    count, max_id, attempts = conn.execute(query).one()
    return f"{max_id}:{attempts or 0}:{count}" if count else None
