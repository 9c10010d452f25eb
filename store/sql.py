"""One cursor for plain SQL on the event store's database, SQLite or PostgreSQL alike.

Tables beside the events (person keys, checkpoints, read models) are written with `?`
placeholders and read as tuples of Python values; this adapts the library's cursors of both
databases to that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class Cursor:
    """One transaction's cursor with `?` placeholders on both databases; rows are tuples."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(self._sql(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.raw.executemany(self._sql(statement), [tuple(row) for row in rows])

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [self._row(row) for row in self.raw.fetchall()]

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.raw.fetchone()
        return None if row is None else self._row(row)

    def _row(self, row: Any) -> tuple[Any, ...]:
        values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
        return tuple(bytes(v) if isinstance(v, memoryview) else v for v in values)
