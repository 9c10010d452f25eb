"""Plain SQL on the event store's own database, for the audit's tables (SQLite or PostgreSQL).

The audit keeps its checkpoints, witnessed leaf hashes and read models beside the events,
in the same database, through the library's own connection pool. Statements are written
with `?` placeholders and SQLite types; `Database` adapts them for PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from store.application import PartnershipStore
from store.sql import Cursor


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

    def has_table(self, name: str) -> bool:
        """Whether the store's database holds this table (asked, never created)."""
        with self.transaction(commit=False) as cursor:
            if self.postgres:
                cursor.execute("SELECT to_regclass(?) IS NOT NULL", (name,))
            else:
                cursor.execute(
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (name,),
                )
            row = cursor.fetchone()
        return bool(row and row[0])

    def create(self, *statements: str) -> None:
        with self.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(self.ddl(statement))
