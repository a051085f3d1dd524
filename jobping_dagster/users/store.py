"""Users in the app database. Every value is validated before it is stored."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import (
    llm_calls,
    match_candidates,
    match_failures,
    match_feedback,
    notifications,
    user_job_matches,
    user_wishes,
    users,
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
    """What to set; a field left as None is not changed. An empty string clears the prompt
    or the webhook."""

    prompt: str | None = None
    min_score: int | str | None = None
    discord_webhook: str | None = None


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
    return values


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
            "update", "nothing to change: give --prompt, --min-score or --discord-webhook"
        )
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
