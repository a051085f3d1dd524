"""Small helpers for portable SQL across SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

# Keeps IN lists well below SQLite's bound on bound parameters.
CHUNK = 500


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_ignoring_conflicts(
    conn: sa.Connection, table: sa.Table, rows: Iterable[dict], index_elements: list[str]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on either dialect."""
    rows = list(rows)
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=index_elements)
    conn.execute(statement, rows)
