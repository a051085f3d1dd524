"""Shared fixtures: app databases on SQLite and on the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine

PG_ADMIN_URL = os.environ.get(
    "JOBPING_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_admin_engine():
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as error:
        engine.dispose()
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {type(error.orig).__name__}"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin_engine):
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"jobping_test_{uuid.uuid4().hex[:12]}"
    with pg_admin_engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    get_engine(url).dispose()
    get_engine.cache_clear()
    with pg_admin_engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'jobping.db'}"
    yield url
    get_engine(url).dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request):
    """The app database URL, once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return request.getfixturevalue(name)


@pytest.fixture
def engine(db_url) -> sa.Engine:
    return get_engine(db_url)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """A Chromium (or Chrome) binary for the browser tests: Debian's `chromium` package
    (Playwright cannot download its own browser here). Skips without one, fails in CI."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.path.exists("/usr/bin/chromium"):
        return "/usr/bin/chromium"
    message = "no chromium binary (apt-get install chromium)"
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)
