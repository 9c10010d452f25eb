"""Case 3: appending commands to the event store, one save per command, against raw
inserts of the very same rows (same tables, same bytes, one transaction per command)
with `sqlite3` and with `psycopg`.

The store's side is `PartnershipStore.append` as the `record_events` activity calls it
(read the aggregate, check the request id, fold with `evolve`, encode, insert events and
time index). The floor inserts the pre-encoded rows and nothing else.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import Options, Row, say
from bench.data import TEMPLATE_ID, bench_id, meta, story_commands, template
from domain.identity import aggregate_id
from runtime.settings import open_store

Command = tuple[str, str, dict[str, Any], list[Any]]  # partnership, command, payload, events


def commands(total: int) -> list[Command]:
    """`total` commands: the story of as many partnerships as needed (decided once)."""
    story = story_commands("partnership-bench-x")
    out: list[Command] = []
    number = 0
    while len(out) < total:
        partnership_id = bench_id(number, "partnership-append-")
        for name, payload, events in story:
            if len(out) < total:
                out.append((partnership_id, name, payload, events))
        number += 1
    return out


def store_rate(url: str, work: list[Command]) -> float:
    store = open_store(url)
    try:
        versions: dict[str, int] = {}
        started = time.perf_counter()
        for partnership_id, name, payload, events in work:
            expected = versions.get(partnership_id)
            result = store.append(
                partnership_id, events, meta(name, payload, partnership_id), expected
            )
            versions[partnership_id] = result.version
        return len(work) / (time.perf_counter() - started)
    finally:
        store.close()


RawRows = list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]


def raw_rows(url: str, work: list[Command], hex_ids: bool) -> tuple[RawRows, str, str]:
    """Per command: (event rows, time rows), exactly the bytes the store would write;
    and the names of the two tables (the store creates them here, empty)."""
    store = open_store(url)
    recorder: Any = store.recorder
    tables = (recorder.events_table_name, recorder.times_table_name)
    store.close()
    tmpl = template(store)
    by_command: RawRows = []
    needle = TEMPLATE_ID.encode()
    position: dict[str, int] = {}
    for partnership_id, _name, _payload, events in work:
        originator: UUID | str = aggregate_id(partnership_id)
        key = originator.hex if hex_ids and isinstance(originator, UUID) else originator
        start = position.get(partnership_id, 0)
        rows, times = [], []
        for offset in range(len(events)):
            _command, version, topic, state = tmpl.rows[start + offset]
            rows.append((key, version, topic, state.replace(needle, partnership_id.encode())))
            times.append((key, version, tmpl.micros))
        position[partnership_id] = start + len(events)
        by_command.append((rows, times))
    return by_command, *tables


def sqlite_floor(path: Path, work: list[Command]) -> float:
    url = f"sqlite:///{path}"
    per_command, events, times_table = raw_rows(url, work, hex_ids=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    try:
        started = time.perf_counter()
        for rows, times in per_command:
            connection.execute("BEGIN")
            connection.executemany(f"INSERT INTO {events} VALUES (?, ?, ?, ?)", rows)
            connection.executemany(f"INSERT INTO {times_table} VALUES (?, ?, ?)", times)
            connection.execute("COMMIT")
        return len(work) / (time.perf_counter() - started)
    finally:
        connection.close()


def postgres_floor(url: str, work: list[Command]) -> float:
    import psycopg

    per_command, events, times_table = raw_rows(url, work, hex_ids=False)
    with psycopg.connect(url) as connection:
        started = time.perf_counter()
        for rows, times in per_command:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {events} (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)",
                    rows,
                )
                cursor.executemany(f"INSERT INTO {times_table} VALUES (%s, %s, %s)", times)
        return len(work) / (time.perf_counter() - started)


def postgres() -> AbstractContextManager[Any]:
    """A throwaway PostgreSQL 15 (the tests' fixture), or None with the reason."""
    try:
        from runtime.devserver import free_port
        from tests.production.postgres import postgres_server
    except ImportError as error:
        return nullcontext(f"no PostgreSQL helper: {error}")
    return postgres_server(free_port())


def measure(opts: Options, workdir: Path) -> list[Row]:
    work = commands(opts.appends)
    events = sum(len(c[3]) for c in work)
    metric = f"commands/s ({len(work)} commands, {events} events, one save each)"
    rows: list[Row] = []

    def series(make: Callable[[int], float], label: str) -> list[float]:
        make(-1)  # warm-up
        samples = [make(rep) for rep in range(opts.repeat)]
        say(f"append: {label} {[round(s) for s in samples]}")
        return samples

    sqlite_store = series(
        lambda rep: store_rate(f"sqlite:///{workdir / f'append-store-{rep}.db'}", work),
        "sqlite store",
    )
    sqlite_raw = series(
        lambda rep: sqlite_floor(workdir / f"append-raw-{rep}.db", work), "sqlite raw"
    )
    rows.append(
        Row("3 append", f"SQLite {metric}", "/s", sqlite_store, sqlite_raw, "raw sqlite3 inserts")
    )
    if not opts.postgres:
        rows.append(_skipped("PostgreSQL disabled (--no-postgres)", metric))
        return rows
    try:
        server_context = postgres()
        with server_context as server:
            if isinstance(server, str):
                rows.append(_skipped(server, metric))
                return rows
            pg_store = series(lambda _rep: store_rate(server.new_database(), work), "pg store")
            pg_raw = series(lambda _rep: postgres_floor(server.new_database(), work), "pg raw")
            rows.append(
                Row(
                    "3 append",
                    f"PostgreSQL {metric}",
                    "/s",
                    pg_store,
                    pg_raw,
                    "raw psycopg inserts",
                    note="throwaway cluster: fsync=off, synchronous_commit=off"
                    " (the tests' settings)",
                )
            )
    except Exception as error:  # a machine without PostgreSQL still gets the rest
        rows.append(_skipped(f"PostgreSQL could not start: {str(error).splitlines()[0]}", metric))
    return rows


def _skipped(reason: str, metric: str) -> Row:
    return Row("3 append", f"PostgreSQL {metric}", "/s", [], note=f"skipped: {reason}")
