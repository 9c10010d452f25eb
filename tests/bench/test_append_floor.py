"""The append benchmark's floor writes the very same rows as the store's `append`.

Its ratio means "the store's cost over inserting what it inserts" only if so: a floor that
leaves out a table the store writes (the effective index came after the floor) is cheaper
for the wrong reason. Both sides run the same few dozen commands into fresh databases; the
three tables must then hold the same rows, except when each was recorded (the store's
clock against the floor's fixed instant).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench.append import Tables, commands, postgres_floor, raw_rows, sqlite_floor, store_rate
from runtime.settings import open_store
from tests.production.postgres import PostgresServer

#: Three partnerships' stories (eleven commands each), the last one cut short.
WORK = commands(30)


def without_time(state: bytes) -> dict[str, Any]:
    """An event's record minus when it was recorded."""
    record: dict[str, Any] = json.loads(state)
    record.pop("timestamp")
    return record


def tables_of(url: str) -> Tables:
    return raw_rows(url, [], hex_ids=False)[1]


def contents(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[Any]]:
    """The three tables, sorted, recorded times dropped (the last-but-one effective column
    and the time index's last)."""
    return {
        "events": sorted((str(o), v, t, without_time(bytes(s))) for o, v, t, s in rows["events"]),
        "times": sorted((str(o), v) for o, v, _us in rows["times"]),
        "effective": sorted(
            (str(row[0]), *row[1:7], row[8], bool(row[9])) for row in rows["effective"]
        ),
    }


def sqlite_contents(path: Path, tables: Tables) -> dict[str, list[Any]]:
    connection = sqlite3.connect(path)
    try:
        return contents(
            {
                "events": connection.execute(
                    f"SELECT originator_id, originator_version, topic, state FROM {tables.events}"
                ).fetchall(),
                "times": connection.execute(f"SELECT * FROM {tables.times}").fetchall(),
                "effective": connection.execute(f"SELECT * FROM {tables.effective}").fetchall(),
            }
        )
    finally:
        connection.close()


def assert_same_rows(store_side: dict[str, list[Any]], floor_side: dict[str, list[Any]]) -> None:
    events = sum(len(command[3]) for command in WORK)
    assert len(store_side["events"]) == len(store_side["effective"]) == events
    for table in ("events", "times", "effective"):
        assert floor_side[table] == store_side[table], table
    # Every version is chained on both sides (whole histories from version 1).
    assert all(row[-1] for row in floor_side["effective"])


def test_sqlite_floor_inserts_the_rows_the_store_appends(tmp_path: Path) -> None:
    store_db, floor_db = tmp_path / "store.db", tmp_path / "floor.db"
    store_rate(f"sqlite:///{store_db}", WORK)
    sqlite_floor(floor_db, WORK)
    tables = tables_of(f"sqlite:///{store_db}")
    assert_same_rows(sqlite_contents(store_db, tables), sqlite_contents(floor_db, tables))


def test_sqlite_floor_threads_insert_the_same_rows(tmp_path: Path) -> None:
    store_db, floor_db = tmp_path / "store.db", tmp_path / "floor.db"
    store_rate(f"sqlite:///{store_db}", WORK, 3)
    sqlite_floor(floor_db, WORK, 3)
    tables = tables_of(f"sqlite:///{store_db}")
    assert_same_rows(sqlite_contents(store_db, tables), sqlite_contents(floor_db, tables))


@pytest.mark.timeout(60)
def test_postgres_floor_inserts_the_rows_the_store_appends(postgres: PostgresServer) -> None:
    import psycopg

    store_url, floor_url = postgres.new_database(), postgres.new_database()
    store_rate(store_url, WORK)
    postgres_floor(floor_url, WORK)
    store = open_store(store_url)
    recorder: Any = store.recorder
    store.close()
    tables = Tables(
        recorder.events_table_name, recorder.times_table_name, recorder.effective_table_name
    )

    def read(url: str) -> dict[str, list[Any]]:
        with psycopg.connect(url) as connection:
            return contents(
                {
                    "events": connection.execute(
                        "SELECT originator_id, originator_version, topic, state"
                        f" FROM {tables.events}"
                    ).fetchall(),
                    "times": connection.execute(f"SELECT * FROM {tables.times}").fetchall(),
                    "effective": connection.execute(f"SELECT * FROM {tables.effective}").fetchall(),
                }
            )

    assert_same_rows(read(store_url), read(floor_url))
