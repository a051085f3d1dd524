"""What the `jobping` commands share: the settings read when a command runs, the app
database, JobPing's Dagster instance and definitions, and a user looked up by email."""

from __future__ import annotations

import fcntl
import functools
import os
from collections.abc import Callable

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine
from jobping_dagster.settings import Settings
from jobping_dagster.users.store import get_user


def with_settings(command: Callable[..., int | None]) -> Callable[..., int | None]:
    """Reads the settings when the command runs, not when it is parsed: `--help` works with
    a bad setting, and a bad setting stops the command with one line naming it."""

    @functools.wraps(command)
    def run(**options):
        return command(Settings.from_env(), **options)

    return run


def app_engine(settings: Settings) -> sa.Engine:
    return get_engine(settings.database_url)


def normalized_email(email: str) -> str:
    return email.strip().lower()


def user_id_of(conn: sa.Connection, email: str | None) -> int | None:
    """The id of the user with this email; None for no email (all users)."""
    if not email:
        return None
    found = get_user(conn, normalized_email(email))
    if found is None:
        raise ValueError(f"no user {normalized_email(email)}")
    return found.id


def scorer_name(settings: Settings) -> str:
    return f"OpenAI {settings.openai_model}" if settings.openai_enabled else "local scorer"


def definitions(settings: Settings) -> dg.Definitions:
    # Imported when needed: loading every asset and sensor takes seconds, and most commands
    # need none.
    from jobping_dagster.definitions import build_definitions

    return build_definitions(settings)


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The Dagster instance of DAGSTER_HOME, else the embedded one under JOBPING_HOME."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    # Without DAGSTER_HOME, run history still lands under JobPing's own folder.
    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    # Dagster's SQLite storage stamps its schema version on first open without a lock: two
    # processes opening a fresh folder at once leave two version rows, and every later open
    # fails ("more than one head"). A file lock makes first opens take turns.
    with open(home / ".open.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return dg.DagsterInstance.from_config(str(home))
