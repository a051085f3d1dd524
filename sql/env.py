"""Alembic environment for JobPing's app database. Run through `jobping migrate`, which passes
the connection in `config.attributes["connection"]`."""

from alembic import context

from jobping_dagster.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
