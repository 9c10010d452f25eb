"""The SQLite recorder: the library's, plus the time index."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from store.effective_fill import fill
from store.effective_reads import EffectiveReads
from store.time_index import (
    EVENT_TIMES,
    CommandRows,
    EffectiveRow,
    EventTime,
    recorded_micros,
    stored_timestamp,
)


class SQLiteTimeIndexedRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder plus a timestamp-to-version index and the effective
    index (store/effective_index.py).

    The index rows are written by `_insert_events`, i.e. in the same transaction as the
    events themselves (the idea of the library's `searchabletimestamps` example), so the
    index can never disagree with the log about which events exist.
    """

    times_table_name = "amity_event_times"
    # Table names are constants of this class, never input: S608 does not apply.
    insert_time = f"INSERT INTO {times_table_name} VALUES (?, ?, ?)"  # noqa: S608
    select_version = (
        f"SELECT MAX(originator_version) FROM {times_table_name}"  # noqa: S608
        " WHERE originator_id = ? AND recorded_us <= ?"
    )

    effective_table_name = "amity_event_effective"
    # `chained`: the command starts the history, or the version before it is chained.
    insert_effective = (
        f"INSERT INTO {effective_table_name} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"  # noqa: S608
        " CASE WHEN ? = 1 THEN 1 ELSE COALESCE((SELECT chained FROM"
        f" {effective_table_name} WHERE originator_id = ? AND originator_version = ? - 1), 0)"
        " END)"
    )

    #: The group commit's own connection (made on first use; see insert_commands).
    _writer: sqlite3.Connection | None = None

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        table = self.times_table_name
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "recorded_us INTEGER NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {table}_by_time ON {table} (originator_id, recorded_us)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {self.effective_table_name} ("
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "kind INTEGER NOT NULL, day_us INTEGER, target INTEGER, clock_us INTEGER, "
            "base_us INTEGER, recorded_us INTEGER NOT NULL, request_id TEXT NOT NULL, "
            "chained INTEGER NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {self.effective_table_name}_by_day"
            f" ON {self.effective_table_name} (originator_id, kind, day_us)"
        )
        statements.append(
            f"CREATE INDEX IF NOT EXISTS {self.effective_table_name}_by_request"
            f" ON {self.effective_table_name} (originator_id, request_id)"
        )
        return statements

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        # A store written before the index existed: index its events once.
        c.execute(f"SELECT 1 FROM {self.times_table_name} LIMIT 1")  # noqa: S608
        if c.fetchone() is not None:
            return
        c.execute(
            "SELECT originator_id, originator_version, state FROM "  # noqa: S608
            + self.events_table_name
        )
        try:
            rows = [
                (row[0], row[1], recorded_micros(stored_timestamp(row[2]))) for row in c.fetchall()
            ]
        except ValueError:  # encrypted at rest: such a store was written with the index
            return
        c.executemany(self.insert_time, rows)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        times = cast(list[EventTime], kwargs.get(EVENT_TIMES) or [])
        c.executemany(
            self.insert_time,
            [(originator.hex, version, micros) for originator, version, micros in times],
        )
        return notification_ids

    def insert_commands(self, commands: Sequence[CommandRows]) -> None:
        """Several commands' events and time-index rows in ONE transaction and one sync
        (group commit); any failure rolls back all of them (the caller sorts out whose).

        On a file, through a connection of its own: only the group commit's leader writes
        with it (one at a time), so it needs none of the pool's per-transaction bookkeeping,
        and BEGIN IMMEDIATE takes the write lock first (another process writing waits, up
        to the lock timeout, instead of failing on a lock upgrade)."""
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:  # one database per connection: use the pool's
            with self.datastore.transaction(commit=True) as c:
                self._write_commands(c.sqlite_cursor, commands)
            return
        connection = self._writer
        if connection is None:
            try:
                connection = sqlite3.connect(
                    pool.db_name,
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                    timeout=pool.lock_timeout or 5,
                )
            except sqlite3.Error as error:
                raise InterfaceError(error) from error
            self._writer = connection
        try:
            # The pool's writer lock still orders this process's writers (the person-key
            # table reads then writes in one transaction: it must not interleave with us).
            with pool._writer_lock:
                try:
                    if connection.in_transaction:
                        # A call cut short between BEGIN and its clean-up (an exception
                        # raised in its thread) left it open: every BEGIN would fail on it.
                        connection.rollback()
                    connection.execute("BEGIN IMMEDIATE")
                    self._write_commands(connection.cursor(), commands)
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.rollback()
                    raise
        except sqlite3.IntegrityError as error:
            raise IntegrityError(error) from error
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
        except sqlite3.Error as error:
            raise PersistenceError(error) from error

    def _write_commands(self, cursor: sqlite3.Cursor, commands: Sequence[CommandRows]) -> None:
        events, times = self.insert_events_statement, self.insert_time
        for stored_events, event_times, effective in commands:
            cursor.executemany(
                events,
                [
                    (
                        s.originator_id.hex
                        if isinstance(s.originator_id, UUID)
                        else s.originator_id,
                        s.originator_version,
                        s.topic,
                        s.state,
                    )
                    for s in stored_events
                ],
            )
            cursor.executemany(times, [(o.hex, version, us) for o, version, us in event_times])
            if effective:
                cursor.executemany(self.insert_effective, [_effective(row) for row in effective])

    def close_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def version_at(self, originator_id: UUID, micros: int) -> int | None:
        """The last version of an aggregate recorded at or before `micros`."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_version, (originator_id.hex, micros))
            row = c.fetchone()
            return None if row is None or row[0] is None else int(row[0])

    def fill_effective(self, originator_id: UUID, rows: Sequence[EffectiveRow]) -> int:
        """Backfill an aggregate's effective index (store/effective_fill.py)."""
        return fill(self.datastore, False, self.effective_table_name, originator_id.hex, rows)

    def effective_reads(self, originator_id: UUID, last: int) -> EffectiveReads:
        """The effective index's queries for versions 1..`last` of an aggregate."""
        return EffectiveReads(
            self.datastore, False, self.effective_table_name, originator_id.hex, last
        )


def _effective(row: EffectiveRow) -> tuple[object, ...]:
    key, first = row[0].hex, row[9]
    return (key, *row[1:], key, first)
