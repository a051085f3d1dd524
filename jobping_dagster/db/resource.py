import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine


class AppDatabase(dg.ConfigurableResource):
    """JobPing's app database: SQLite for the embedded default, PostgreSQL in production.
    The schema is migrated on first use in each process."""

    url: str

    def engine(self) -> sa.Engine:
        return get_engine(self.url)
