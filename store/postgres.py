"""The PostgreSQL recorder: the library's, plus the time index; and the schema lock that
lets several workers start at once on a new database."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    PersistenceError,
    ProgrammingError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from store.effective_fill import fill
from store.effective_reads import EffectiveReads
from store.time_index import EVENT_TIMES, CommandRows, EffectiveRow, EventTime


class PostgresTimeIndexedRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder plus the same timestamp-to-version index and the
    same effective index (store/effective_index.py)."""

    #: The group commit's own connection (see _writer_connection).
    _writer: psycopg.Connection[Any] | None = None

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._writer_lock = threading.RLock()
        base = events_table_name.removesuffix("_events") or "stored"
        self.times_table_name = f"{base}_event_times"
        self.check_identifier_length(self.times_table_name)
        schema, table = Identifier(self.datastore.schema), Identifier(self.times_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
                "recorded_us bigint NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(
                schema=schema,
                table=table,
                id_type=Identifier(self.datastore.originator_id_type),
            )
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {index}"
                " ON {schema}.{table} (originator_id, recorded_us)"
            ).format(
                index=Identifier(f"{self.times_table_name}_by_time"), schema=schema, table=table
            )
        )
        self.effective_table_name = f"{base}_event_effective"
        self.check_identifier_length(self.effective_table_name)
        effective = Identifier(self.effective_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "originator_id {id_type} NOT NULL, originator_version bigint NOT NULL, "
                "kind smallint NOT NULL, day_us bigint, target bigint, clock_us bigint, "
                "base_us bigint, recorded_us bigint NOT NULL, request_id text NOT NULL, "
                "chained boolean NOT NULL, "
                "PRIMARY KEY (originator_id, originator_version))"
            ).format(
                schema=schema,
                table=effective,
                id_type=Identifier(self.datastore.originator_id_type),
            )
        )
        for suffix, columns in (("by_day", "kind, day_us"), ("by_request", "request_id")):
            self.sql_create_statements.append(
                SQL(
                    "CREATE INDEX IF NOT EXISTS {index}"
                    " ON {schema}.{table} (originator_id, {columns})"
                ).format(
                    index=Identifier(f"{self.effective_table_name}_{suffix}"),
                    schema=schema,
                    table=effective,
                    columns=SQL(columns),
                )
            )
        self.insert_time_statement = SQL("INSERT INTO {schema}.{table} VALUES (%s, %s, %s)").format(
            schema=schema, table=table
        )
        # One command batch = one call of this function: the library's table lock (insert
        # order = commit order, for readers tailing the log), its NOTIFY, the events (their
        # unique key refuses a lost race) and the time index, all in the caller's statement,
        # so a batch costs one round trip instead of one per statement.
        self.append_function_name = f"{events_table_name}_append"
        self.check_identifier_length(self.append_function_name)
        function = Identifier(self.append_function_name)
        id_type = Identifier(self.datastore.originator_id_type)
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}("
                "events json, times json, effective json, timeout text)"
                " RETURNS void LANGUAGE plpgsql AS $body$"
                " BEGIN"
                "  PERFORM set_config('lock_timeout', timeout, true);"
                "  LOCK TABLE {schema}.{events} IN EXCLUSIVE MODE;"
                "  NOTIFY {channel};"
                "  INSERT INTO {schema}.{events}"
                "   (originator_id, originator_version, topic, state)"
                "   SELECT (e->>0)::{id_type}, (e->>1)::bigint, e->>2, decode(e->>3, 'hex')"
                "   FROM json_array_elements(events) AS e;"
                "  INSERT INTO {schema}.{table}"
                "   (originator_id, originator_version, recorded_us)"
                "   SELECT (t->>0)::{id_type}, (t->>1)::bigint, (t->>2)::bigint"
                "   FROM json_array_elements(times) AS t;"
                # chained: the command starts the history, or the version before it is
                # (rows of this same statement are not visible to it: hence the command's
                # first version, whose predecessor was written by an earlier one)
                "  INSERT INTO {schema}.{effective}"
                "   SELECT (r->>0)::{id_type}, (r->>1)::bigint, (r->>2)::smallint,"
                "    (r->>3)::bigint, (r->>4)::bigint, (r->>5)::bigint, (r->>6)::bigint,"
                "    (r->>7)::bigint, r->>8, (r->>9)::bigint = 1 OR EXISTS (SELECT 1"
                "     FROM {schema}.{effective} AS p WHERE p.originator_id = (r->>0)::{id_type}"
                "     AND p.originator_version = (r->>9)::bigint - 1 AND p.chained)"
                "   FROM json_array_elements(effective) AS r;"
                " END $body$"
            ).format(
                schema=schema,
                function=function,
                id_type=id_type,
                events=Identifier(events_table_name),
                channel=Identifier(self.channel_name),
                table=table,
                effective=effective,
            )
        )
        self.call_append_statement = SQL(
            "SELECT {schema}.{function}(%s::json, %s::json, %s::json, %s::text)"
        ).format(schema=schema, function=function)
        self.select_version_statement = SQL(
            "SELECT MAX(originator_version) AS version FROM {schema}.{table}"
            " WHERE originator_id = %s AND recorded_us <= %s"
        ).format(schema=schema, table=table)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # The events first: a conflicting append then fails on the events' own unique key,
        # which the library reports as IntegrityError (ours first aborted the pipeline and
        # surfaced as an OperationalError).
        super()._insert_events(curs, stored_events, **kwargs)
        times = cast(list[EventTime], kwargs.get(EVENT_TIMES) or [])
        if times:
            curs.executemany(self.insert_time_statement, [self._id_row(t) for t in times])

    def insert_commands(self, commands: Sequence[CommandRows]) -> None:
        """Several commands' events and time-index rows in ONE transaction (group commit):
        one call of the append function, i.e. one statement and one round trip, committed
        on its own (the connection is in autocommit mode); any failure rolls back all of
        them (the caller sorts out whose)."""
        # The rows travel as two JSON texts (states in hex): psycopg adapts a Python list
        # to an array parameter in Python, element by element, which cost more than the
        # rest of the append; json.dumps and bytes.hex are C.
        events = json.dumps(
            [
                [str(s.originator_id), s.originator_version, s.topic, s.state.hex()]
                for stored_events, _times, _effective in commands
                for s in stored_events
            ]
        )
        times = json.dumps(
            [
                [str(originator), version, micros]
                for _events, event_times, _effective in commands
                for originator, version, micros in event_times
            ]
        )
        effective = json.dumps(
            [
                [str(row[0]), *row[1:]]
                for _events, _times, effective_rows in commands
                for row in effective_rows
            ]
        )
        with self._writer_lock:
            conn = self._writer_connection()
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                # A call cut short mid-statement (an exception raised in its thread) left
                # it busy: the pool resets it, and this batch takes a fresh one.
                self._writer = None
                self.datastore.pool.putconn(conn)
                conn = self._writer_connection()
            try:
                # Prepared once (the statement's text never changes, however many commands
                # the batch holds).
                conn.execute(
                    self.call_append_statement,
                    (events, times, effective, f"{self.datastore.lock_timeout}s"),
                    prepare=True,
                )
            except psycopg.Error as error:
                if conn.broken or conn.closed:
                    self.close_writer()  # the next batch takes a fresh one from the pool
                raise library_error(error) from error

    def _writer_connection(self) -> psycopg.Connection[Any]:
        """The group commit's own connection, taken from the library's pool and kept: only
        the group commit's leader writes (one batch at a time), and the pool hands its
        connections out in turn, so every batch would otherwise go to another server
        process (each preparing the statement, each with its own cold caches)."""
        if self._writer is None:
            pool = self.datastore.pool
            timeout = self.datastore.pool_open_timeout  # as the library's get_connection
            pool.open(timeout is not None, timeout or 30.0)
            try:
                self._writer = pool.getconn()
            except psycopg.Error as error:
                raise library_error(error) from error
        return self._writer

    def close_writer(self) -> None:
        """Hand the writer back to the pool (which replaces it if it is broken)."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                self.datastore.pool.putconn(writer)

    def _id_row(self, row: EventTime) -> tuple[UUID | str, int, int]:
        originator, version, micros = row
        if self.datastore.originator_id_type == "text":
            return str(originator), version, micros
        return originator, version, micros

    def effective_reads(self, originator_id: UUID, last: int) -> EffectiveReads:
        """The effective index's queries for versions 1..`last` of an aggregate."""
        key = self._id_row((originator_id, 0, 0))[0]
        return EffectiveReads(self.datastore, True, self._effective_table(), key, last)

    def fill_effective(self, originator_id: UUID, rows: Sequence[EffectiveRow]) -> int:
        """Backfill an aggregate's effective index (store/effective_fill.py)."""
        key = self._id_row((originator_id, 0, 0))[0]
        return fill(self.datastore, True, self._effective_table(), key, rows)

    def _effective_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.effective_table_name}"'

    def version_at(self, originator_id: UUID, micros: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self.select_version_statement,
                (self._id_row((originator_id, 0, 0))[0], micros),
            )
            row = curs.fetchone()
            return None if row is None or row["version"] is None else int(row["version"])


#: psycopg's errors as the library's (as its own connections raise them), most specific first.
_LIBRARY_ERRORS: tuple[tuple[type[psycopg.Error], type[PersistenceError]], ...] = (
    (psycopg.InterfaceError, InterfaceError),
    (psycopg.OperationalError, OperationalError),
    (psycopg.DataError, DataError),
    (psycopg.IntegrityError, IntegrityError),
    (psycopg.InternalError, InternalError),
    (psycopg.ProgrammingError, ProgrammingError),
    (psycopg.NotSupportedError, NotSupportedError),
    (psycopg.DatabaseError, DatabaseError),
)


def library_error(error: psycopg.Error) -> PersistenceError:
    for raw, mapped in _LIBRARY_ERRORS:
        if isinstance(error, raw):
            return mapped(str(error))
    return PersistenceError(str(error))


def direct_connection(env: dict[str, str]) -> psycopg.Connection[tuple[object, ...]]:
    """One autocommit connection outside the library's pool, from the store's settings (for
    the schema lock and for checking that a database holds Amity's tables)."""
    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        dbname=env["POSTGRES_DBNAME"],
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD") or None,
        connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT") or 10),
        autocommit=True,
    )


#: pg_advisory_lock key under which stores create their tables ("amity" in ASCII).
SCHEMA_LOCK = 0x616D697479


@contextmanager
def schema_lock(env: dict[str, str]) -> Iterator[None]:
    """Several workers starting at once on a new PostgreSQL database would run the same
    CREATE TABLE IF NOT EXISTS concurrently ("tuple concurrently updated"): take turns."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        yield
        return
    with direct_connection(env) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
