"""Case 3: appending commands to the event store against raw inserts of the very same rows
(same tables, same bytes, one transaction per command) with `sqlite3` and with `psycopg`.

The store's side is `PartnershipStore.append` as the `record_events` activity calls it
(read the aggregate, check the request id, fold with `evolve`, encode, insert events, time
index and effective index). The floor inserts the same three tables' rows, made before the
clock starts (the effective rows by the store's own `effective_row`, each engine clock under
the policy folded so far) and nothing else: only `chained`, which the store computes in the
insert from the previous version's row, is computed there too, by the same subquery. Two
shapes:

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Options, Row, check, say
from bench.data import NOW, bench_id, meta, story_commands
from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.identity import aggregate_id
from domain.state import PartnershipState
from runtime.settings import open_store
from store.effective_index import effective_row
from store.sqlite import SQLiteTimeIndexedRecorder, _effective
from store.time_index import EffectiveRow, recorded_micros

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


#: One command's rows, as the store would write them: events, time index, effective index
#: (each tuple ready for the floor's statement).
RawCommand = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[EffectiveRow]]
RawRows = list[RawCommand]


@dataclass(frozen=True)
class Tables:
    """The store's three tables that `append` writes, by name (schema-less)."""

    events: str
    times: str
    effective: str


def raw_rows(url: str, work: list[Command], hex_ids: bool) -> tuple[RawRows, Tables]:
    """Per command: its event rows, time rows and effective rows, exactly as `append` would
    make them (same envelope, same request id, same policy for each engine clock), only
    recorded at the bench's fixed instant; and the names of the tables (the store creates
    them here, empty)."""
    store = open_store(url)
    recorder: Any = store.recorder
    tables = Tables(
        recorder.events_table_name, recorder.times_table_name, recorder.effective_table_name
    )
    to_stored = store.mapper.to_stored_event
    store.close()
    micros = recorded_micros(NOW)
    by_command: RawRows = []
    states: dict[str, PartnershipState | None] = {}
    for partnership_id, name, payload, events in work:
        originator = aggregate_id(partnership_id)
        key = originator.hex if hex_ids else originator
        state = states.get(partnership_id)
        first = 1 if state is None else state.version + 1
        command = meta(name, payload, partnership_id)
        rows, times, effective = [], [], []
        for version, event in enumerate(events, start=first):
            # The policy in force just before the event, as `append` reads it from the
            # state it folds.
            policy = state.policy if state is not None else None
            effective.append(
                effective_row(originator, version, event, NOW, command.request_id, policy, first)
            )
            state = evolve(state, event, version)
            stored = to_stored(
                PartnershipEvent(
                    originator_id=originator,
                    originator_version=version,
                    timestamp=NOW,
                    command=command.command,
                    via=command.via,
                    actor=command.actor,
                    request_id=command.request_id,
                    workflow_id=command.workflow_id,
                    run_id=command.run_id,
                    event=event,
                )
            )
            rows.append((key, version, stored.topic, stored.state))
            times.append((key, version, micros))
        states[partnership_id] = state
        by_command.append((rows, times, effective))
    return by_command, tables


def sqlite_floor(path: Path, work: list[Command], threads: int = 1) -> float:
    url = f"sqlite:///{path}"
    per_command, tables = raw_rows(url, work, hex_ids=True)
    # The effective rows as the recorder binds them (`chained` from the previous version's
    # row, by the recorder's own statement), prepared before the clock starts.
    prepared = [
        (rows, times, [_effective(row) for row in effective])
        for rows, times, effective in per_command
    ]
    insert_events = f"INSERT INTO {tables.events} VALUES (?, ?, ?, ?)"
    insert_times = f"INSERT INTO {tables.times} VALUES (?, ?, ?)"
    insert_effective = SQLiteTimeIndexedRecorder.insert_effective
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    writer = threading.Lock()

    def run(mine: list[Any]) -> None:
        for rows, times, effective in mine:
            with writer:
                connection.execute("BEGIN")
                connection.executemany(insert_events, rows)
                connection.executemany(insert_times, times)
                connection.executemany(insert_effective, effective)
                connection.execute("COMMIT")

    try:
        return len(work) / _run_raw(run, prepared, work, threads)
    finally:
        connection.close()


def _run_raw(
    run: Callable[[list[Any]], None], per_command: list[Any], work: list[Command], threads: int
) -> float:
    """Seconds to insert every command's rows, by one caller or split as `shares` splits."""
    if threads == 1:
        started = time.perf_counter()
        run(per_command)
        return time.perf_counter() - started
    rows_of = {id(command): rows for command, rows in zip(work, per_command, strict=True)}
    split = [[rows_of[id(command)] for command in mine] for mine in shares(work, threads)]
    return timed_threads([lambda m=m: run(m) for m in split])


#: The effective row as the store's append function inserts it: `chained` when the
#: command starts the history or the version before the command's first is chained, read
#: with the same scalar subquery (as an EXISTS, the plan psycopg prepared while the table was
#: small scanned it whole for every row: the floor fell to ~300 commands/s and kept falling).
PG_INSERT_EFFECTIVE = (
    "INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
    " %s::bigint = 1 OR COALESCE((SELECT p.chained FROM {table} AS p"
    " WHERE p.originator_id = %s AND p.originator_version = %s::bigint - 1), false))"
)


def postgres_floor(url: str, work: list[Command], threads: int = 1) -> float:
    import psycopg

    per_command, tables = raw_rows(url, work, hex_ids=False)
    prepared = [
        (rows, times, [(*row, row[0], row[9]) for row in effective])
        for rows, times, effective in per_command
    ]
    insert_events = (
        f"INSERT INTO {tables.events} (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s)"
    )
    insert_times = f"INSERT INTO {tables.times} VALUES (%s, %s, %s)"
    insert_effective = PG_INSERT_EFFECTIVE.format(table=tables.effective)
    idle = [psycopg.connect(url) for _ in range(threads)]  # connected before the clock
    taking = threading.Lock()

    def run(mine: list[Any]) -> None:
        with taking:
            connection = idle.pop()
        for rows, times, effective in mine:
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(insert_events, rows)
                cursor.executemany(insert_times, times)
                cursor.executemany(insert_effective, effective)
        connection.close()

    return len(work) / _run_raw(run, prepared, work, threads)


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
