import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from jobping_dagster.db.engine import create_app_engine, head_revision, migrate
from jobping_dagster.db.schema import metadata


def test_migrations_create_exactly_the_declared_schema(db_url):
    engine = create_app_engine(db_url)
    before, after = migrate(engine)
    assert before is None
    assert after == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_migrating_twice_changes_nothing(db_url):
    engine = create_app_engine(db_url)
    migrate(engine)
    before, after = migrate(engine)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert before == after == head_revision()
    assert {"users", "jobs", "companies", "user_job_matches", "notifications"} <= tables
