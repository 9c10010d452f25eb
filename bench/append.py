"""Case 3: appending commands to the event store against raw inserts of the very same rows
(same tables, same bytes, one transaction per command) with `sqlite3` and with `psycopg`.

The store's side is `PartnershipStore.append` as the `record_events` activity calls it
(read the aggregate, check the request id, fold with `evolve`, encode, insert events and
time index). The floor inserts the pre-encoded rows and nothing else. Two shapes:

- one caller, one command after the other (every append commits alone on both sides);
- THREADS callers at once, each with its own partnerships, as the worker's activity threads
  append: the store's group commit may put several callers' commands in one transaction;
  the floor's callers each commit their own (SQLite: one writer connection taken in turn,
  as the library's pool does; PostgreSQL: a connection per caller).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import Options, Row, check, say
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


#: Callers at once in the concurrent shape (the worker runs up to 24 activity threads).
THREADS = 8


def shares(work: list[Command], threads: int) -> list[list[Command]]:
    """The commands split by partnership: each caller appends whole partnerships in order."""
    out: list[list[Command]] = [[] for _ in range(threads)]
    owner: dict[str, int] = {}
    for command in work:
        index = owner.setdefault(command[0], len(owner) % threads)
        out[index].append(command)
    return out


def timed_threads(jobs: list[Callable[[], None]]) -> float:
    """Seconds from starting every job on its own thread to the last one finishing."""
    threads = [threading.Thread(target=job) for job in jobs]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def store_rate(url: str, work: list[Command], threads: int = 1) -> float:
    store = open_store(url)
    failures: list[BaseException] = []

    def run(mine: list[Command]) -> None:
        versions: dict[str, int] = {}
        try:
            for partnership_id, name, payload, events in mine:
                expected = versions.get(partnership_id)
                result = store.append(
                    partnership_id, events, meta(name, payload, partnership_id), expected
                )
                versions[partnership_id] = result.version
        except BaseException as error:
            failures.append(error)
            raise

    try:
        if threads == 1:
            started = time.perf_counter()
            run(work)
            seconds = time.perf_counter() - started
        else:
            seconds = timed_threads([lambda m=m: run(m) for m in shares(work, threads)])
        if failures:
            raise failures[0]
        return len(work) / seconds
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


def sqlite_floor(path: Path, work: list[Command], threads: int = 1) -> float:
    url = f"sqlite:///{path}"
    per_command, events, times_table = raw_rows(url, work, hex_ids=True)
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    writer = threading.Lock()

    def run(mine: RawRows) -> None:
        for rows, times in mine:
            with writer:
                connection.execute("BEGIN")
                connection.executemany(f"INSERT INTO {events} VALUES (?, ?, ?, ?)", rows)
                connection.executemany(f"INSERT INTO {times_table} VALUES (?, ?, ?)", times)
                connection.execute("COMMIT")

    try:
        return len(work) / _run_raw(run, per_command, work, threads)
    finally:
        connection.close()


def _run_raw(
    run: Callable[[RawRows], None], per_command: RawRows, work: list[Command], threads: int
) -> float:
    """Seconds to insert every command's rows, by one caller or split as `shares` splits."""
    if threads == 1:
        started = time.perf_counter()
        run(per_command)
        return time.perf_counter() - started
    rows_of = {id(command): rows for command, rows in zip(work, per_command, strict=True)}
    split = [[rows_of[id(command)] for command in mine] for mine in shares(work, threads)]
    return timed_threads([lambda m=m: run(m) for m in split])


def postgres_floor(url: str, work: list[Command], threads: int = 1) -> float:
    import psycopg

    per_command, events, times_table = raw_rows(url, work, hex_ids=False)
    idle = [psycopg.connect(url) for _ in range(threads)]  # connected before the clock
    taking = threading.Lock()

    def run(mine: RawRows) -> None:
        with taking:
            connection = idle.pop()
        for rows, times in mine:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {events} (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)",
                    rows,
                )
                cursor.executemany(f"INSERT INTO {times_table} VALUES (%s, %s, %s)", times)
        connection.close()

    return len(work) / _run_raw(run, per_command, work, threads)


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
    metric = f"commands/s ({len(work)} commands, {events} events)"
    rows: list[Row] = []

    def series(make: Callable[[int], float], label: str) -> list[float]:
        make(-1)  # warm-up
        samples = [make(rep) for rep in range(opts.repeat)]
        say(f"append: {label} {[round(s) for s in samples]}")
        return samples

    for threads in (1, THREADS):
        label = "" if threads == 1 else f", {threads} threads"
        sqlite_store = series(
            lambda rep, t=threads: store_rate(
                f"sqlite:///{workdir / f'append-store-{t}-{rep}.db'}", work, t
            ),
            f"sqlite store{label}",
        )
        sqlite_raw = series(
            lambda rep, t=threads: sqlite_floor(workdir / f"append-raw-{t}-{rep}.db", work, t),
            f"sqlite raw{label}",
        )
        rows.append(
            check_row(
                Row(
                    "3 append",
                    f"SQLite {metric}{label}",
                    "/s",
                    sqlite_store,
                    sqlite_raw,
                    "raw sqlite3 inserts",
                )
            )
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
            for threads in (1, THREADS):
                label = "" if threads == 1 else f", {threads} threads"
                pg_store = series(
                    lambda _rep, t=threads: store_rate(server.new_database(), work, t),
                    f"pg store{label}",
                )
                pg_raw = series(
                    lambda _rep, t=threads: postgres_floor(server.new_database(), work, t),
                    f"pg raw{label}",
                )
                rows.append(
                    check_row(
                        Row(
                            "3 append",
                            f"PostgreSQL {metric}{label}",
                            "/s",
                            pg_store,
                            pg_raw,
                            "raw psycopg inserts",
                            note="throwaway cluster: fsync=off, synchronous_commit=off"
                            " (the tests' settings)",
                        )
                    )
                )
    except Exception as error:  # a machine without PostgreSQL still gets the rest
        rows.append(_skipped(f"PostgreSQL could not start: {str(error).splitlines()[0]}", metric))
    return rows


def check_row(row: Row) -> Row:
    return check(row, row.ratio, ">=", 0.5)


def _skipped(reason: str, metric: str) -> Row:
    return Row("3 append", f"PostgreSQL {metric}", "/s", [], note=f"skipped: {reason}")
