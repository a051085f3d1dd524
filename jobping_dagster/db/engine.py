"""Engines for the app database (SQLite for the embedded default, PostgreSQL in production)
and the migrations that shape it."""

from __future__ import annotations

import functools
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

_MIGRATE_LOCK = threading.Lock()
# Any constant works: it only has to be the same in every process that migrates.
_PG_MIGRATION_LOCK_ID = 740_417_001


class DatabaseUnavailable(RuntimeError):
    """The app database cannot be reached or set up. The message names the setting."""


def utcnow() -> datetime:
    """Naive UTC: SQLite stores no time zone, so every timestamp in the app database is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalize_url(url: str) -> str:
    """PostgreSQL URLs must use psycopg2: with SQLAlchemy 2.1 a bare `postgresql://` picks
    psycopg 3, which this project does not install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def describe_url(url: str) -> str:
    """The URL with its password hidden, for logs and error messages."""
    try:
        return sa.make_url(normalize_url(url)).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparseable URL>"


def migrations_dir() -> Path:
    configured = os.environ.get("JOBPING_MIGRATIONS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "sql"


def create_app_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as e:
        raise DatabaseUnavailable(
            "JOBPING_DATABASE_URL is not a database URL (expected sqlite:///path or "
            "postgresql://user@host/db)"
        ) from e
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A host that drops packets must fail start-up in seconds, not hang it.
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={"connect_timeout": 10},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the webserver, daemon and run workers read while one of them writes; the
    # busy timeout makes concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; returns (revision before, revision after)."""
    with _MIGRATE_LOCK, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Daemon, code server and run workers may all start at once.
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_MIGRATION_LOCK_ID}
            )
        before = MigrationContext.configure(connection).get_current_revision()
        command.upgrade(_alembic_config(connection), "head")
        after = MigrationContext.configure(connection).get_current_revision()
    return before, after


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return ScriptDirectory.from_config(config).get_current_head()


@functools.cache
def get_engine(url: str) -> sa.Engine:
    """One engine per URL and process, migrated on first use (start-up)."""
    engine = create_app_engine(url)
    try:
        migrate(engine)
    except sa.exc.OperationalError as e:
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot reach the app database {describe_url(url)} (JOBPING_DATABASE_URL): "
            f"{driver_reason(e)}"
        ) from None
    return engine


def driver_reason(error: sa.exc.SQLAlchemyError) -> str:
    """The driver's first line ('Connection refused', 'database "x" does not exist'): it
    names hosts, users and databases, never a password."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
