"""Users in the app database. Every value is validated before it is stored."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import (
    digest_matches,
    llm_calls,
    match_candidates,
    match_failures,
    match_feedback,
    notifications,
    user_job_matches,
    user_wishes,
    users,
)
from jobping_dagster.users.delivery_settings import (
    validate_channels,
    validate_daily_cap,
    validate_generic_webhook_url,
    validate_instant_score,
    validate_llm_budget,
    validate_quiet_hours,
    validate_timezone,
    validate_webhook_secret,
)
from jobping_dagster.users.validation import (
    InvalidSetting,
    validate_email,
    validate_min_score,
    validate_prompt,
    validate_webhook_url,
)

DEFAULT_MIN_SCORE = 70


@dataclass(frozen=True)
class UserChanges:
    """What to set; a field left as None is not changed. An empty string clears the prompt,
    a webhook or a policy field (back to its default); channels "" means none (the table)."""

    prompt: str | None = None
    min_score: int | str | None = None
    discord_webhook: str | None = None
    channels: str | list[str] | None = None
    instant_score: int | str | None = None
    quiet_hours: str | None = None
    timezone: str | None = None
    daily_cap: int | str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    llm_budget_usd: float | str | None = None


# Policy fields: "" (or an empty list for channels) clears them.
_POLICY = {
    "instant_score": validate_instant_score,
    "quiet_hours": validate_quiet_hours,
    "timezone": validate_timezone,
    "daily_cap": validate_daily_cap,
    "webhook_secret": validate_webhook_secret,
    "llm_budget_usd": validate_llm_budget,
}


def _validated(changes: UserChanges, allowed_hosts: Collection[str]) -> dict:
    values: dict = {}
    if changes.prompt is not None:
        values["prompt"] = validate_prompt(changes.prompt) if changes.prompt.strip() else None
    if changes.min_score is not None:
        values["min_score"] = validate_min_score(changes.min_score)
    if changes.discord_webhook is not None:
        webhook = changes.discord_webhook.strip()
        values["discord_webhook_url"] = (
            validate_webhook_url(webhook, allowed_hosts) if webhook else None
        )
        # A new webhook gets a fresh start even if the old one was reported gone.
        values["webhook_dead_at"] = None
    if changes.channels is not None:
        values["channels"] = validate_channels(changes.channels)
    for field, validate in _POLICY.items():
        value = getattr(changes, field)
        if value is not None:
            values[field] = (
                None if isinstance(value, str) and not value.strip() else validate(value)
            )
    if changes.webhook_url is not None:
        url = changes.webhook_url.strip()
        values["webhook_url"] = validate_generic_webhook_url(url, allowed_hosts) if url else None
    return values


def _check_channels(current, values: dict) -> None:
    """The chosen channels each have their destination, in the settings as they will be."""

    def final(name: str):
        return values[name] if name in values else (getattr(current, name) if current else None)

    channels = final("channels")
    chosen = channels.split(",") if channels else []
    if "discord" in chosen and not final("discord_webhook_url"):
        field = "discord_webhook" if "discord_webhook_url" in values else "channels"
        raise InvalidSetting(field, "the discord channel needs a discord_webhook")
    if "webhook" in chosen and not final("webhook_url"):
        field = "webhook_url" if "webhook_url" in values else "channels"
        raise InvalidSetting(field, "the webhook channel needs a webhook_url")
    if "webhook" in chosen and not final("webhook_secret"):
        field = "webhook_secret" if "webhook_secret" in values else "channels"
        raise InvalidSetting(field, "the webhook channel needs a webhook_secret to sign with")
    if "email" in chosen and "channels" in values:
        # Picking email again undoes an earlier unsubscribe.
        values["email_unsubscribed_at"] = None


def add_user(
    conn: sa.Connection,
    email: str,
    changes: UserChanges,
    allowed_hosts: Collection[str] = (),
    password_hash: str | None = None,
) -> int:
    """Adds the user; `password_hash` (argon2, see api/passwords.py) lets them log in."""
    email = validate_email(email)
    values = _validated(changes, allowed_hosts)
    values.setdefault("min_score", DEFAULT_MIN_SCORE)
    _check_channels(None, values)
    if password_hash is not None:
        values["password_hash"] = password_hash
    if user_id_of(conn, email) is not None:
        raise InvalidSetting("email", f"a user with email {email} already exists")
    now = utcnow()
    try:
        # A savepoint, so a concurrent sign-up with the same address fails this insert only.
        with conn.begin_nested():
            result = conn.execute(
                users.insert().values(email=email, created_at=now, updated_at=now, **values)
            )
    except sa.exc.IntegrityError:
        raise InvalidSetting("email", f"a user with email {email} already exists") from None
    return result.inserted_primary_key[0]


def set_password_hash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, updated_at=utcnow())
    )


def update_user(
    conn: sa.Connection, email: str, changes: UserChanges, allowed_hosts: Collection[str] = ()
) -> None:
    email = validate_email(email)
    values = _validated(changes, allowed_hosts)
    if not values:
        raise InvalidSetting(
            "update",
            "nothing to change: give --prompt, --min-score, --discord-webhook or a delivery"
            " option (--channels, --instant-score, --quiet-hours, ...)",
        )
    _check_channels(get_user(conn, email), values)
    result = conn.execute(
        users.update().where(users.c.email == email).values(updated_at=utcnow(), **values)
    )
    if result.rowcount == 0:
        raise InvalidSetting("email", f"no user with email {email}")


def remove_user(conn: sa.Connection, email: str) -> None:
    """Removes the user with everything kept about them: matches, notifications, feedback,
    chosen pairs, failures and what was read of their wish."""
    email = validate_email(email)
    user_id = user_id_of(conn, email)
    if user_id is None:
        raise InvalidSetting("email", f"no user with email {email}")
    # Deleted explicitly rather than by cascade, so it does not depend on the SQLite pragma.
    for table in (
        match_feedback,
        digest_matches,
        notifications,
        match_failures,
        user_job_matches,
        match_candidates,
        user_wishes,
    ):
        conn.execute(table.delete().where(table.c.user_id == user_id))
    # The cost ledger keeps what the calls cost, no longer whom they were for.
    conn.execute(llm_calls.update().where(llm_calls.c.user_id == user_id).values(user_id=None))
    conn.execute(users.delete().where(users.c.id == user_id))


def user_id_of(conn: sa.Connection, email: str) -> int | None:
    return conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one_or_none()


def get_user(conn: sa.Connection, email: str):
    return conn.execute(sa.select(users).where(users.c.email == email)).first()


def get_user_by_id(conn: sa.Connection, user_id: int):
    return conn.execute(sa.select(users).where(users.c.id == user_id)).first()


def list_users(conn: sa.Connection) -> list:
    return conn.execute(sa.select(users).order_by(users.c.id)).all()
