"""Is there an Amity event store at this URL? Asked without creating one.

Opening a store creates its file and its tables, which is right for the worker that writes it
and wrong for a command that only reads: run from another folder, or with a mistyped URL, a
reader would make an empty store and report on it as if it were the real one. Readers ask
here first; nothing here writes (SQLite is opened with `mode=ro`, PostgreSQL is only queried).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from store.application import StoreConfigError, store_env
from store.postgres import direct_connection

#: The events table of an Amity store: the library's names for our application ("Amity").
SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "amity_events"


class NoStore(StoreConfigError):  # noqa: N818 - reads as the situation it names
    """Nothing at the URL is an Amity event store; the message says what is there instead."""


def require_store(url: str) -> None:
    """Return if `url` holds an Amity event store; NoStore (saying why) if it does not."""
    env = store_env(url, create_folder=False)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        _require_sqlite(env["SQLITE_DBNAME"])
    else:
        _require_postgres(env)


def _require_sqlite(name: str) -> None:
    if name == ":memory:":
        raise NoStore("an in-memory SQLite store is empty in every new process")
    path = Path(name)
    if not path.exists():
        raise NoStore(f"no such file: {path}")
    if not path.is_file():
        raise NoStore(f"{path} is not a file")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            row = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (SQLITE_EVENTS_TABLE,),
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise NoStore(f"{path} is not an SQLite database") from None
    if row is None:
        raise NoStore(f"{path} is an SQLite database without Amity's events table")


def _require_postgres(env: dict[str, str]) -> None:
    with direct_connection(env) as connection:
        row = connection.execute(
            "SELECT to_regclass(%s) IS NOT NULL", (f"public.{POSTGRES_EVENTS_TABLE}",)
        ).fetchone()
    if not row or not row[0]:
        raise NoStore(
            f"database {env['POSTGRES_DBNAME']} holds no Amity event store"
            f" (no {POSTGRES_EVENTS_TABLE} table)"
        )
