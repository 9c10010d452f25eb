"""Plain SQL on the event store's own database, for the audit's tables (SQLite or PostgreSQL).

The audit keeps its checkpoints, witnessed leaf hashes and read models beside the events,
in the same database, through the library's own connection pool. Statements are written
with `?` placeholders and SQLite types; `Database` adapts them for PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from store.application import PartnershipStore


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


class Database:
    """The store's database, for tables the audit owns."""

    def __init__(self, store: PartnershipStore) -> None:
        datastore = getattr(store.recorder, "datastore", None)
        if not isinstance(datastore, SQLiteDatastore | PostgresDatastore):
            raise TypeError(f"unsupported datastore {type(datastore).__name__}")
        self.datastore: SQLiteDatastore | PostgresDatastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=commit) as raw:
            yield Cursor(raw, self.postgres)

    def ddl(self, statement: str) -> str:
        """SQLite DDL as PostgreSQL needs it."""
        if not self.postgres:
            return statement
        return (
            statement.replace("BLOB", "BYTEA")
            .replace("INTEGER", "BIGINT")
            .replace(" WITHOUT ROWID", "")
        )

    def create(self, *statements: str) -> None:
        with self.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(self.ddl(statement))
