"""The PostgreSQL recorder: the library's, plus the time index; and the schema lock that
lets several workers start at once on a new database."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from store.time_index import EVENT_TIMES, CommandRows, EventTime


class PostgresTimeIndexedRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder plus the same timestamp-to-version index."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
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
        self.insert_time_statement = SQL("INSERT INTO {schema}.{table} VALUES (%s, %s, %s)").format(
            schema=schema, table=table
        )
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
        """Several commands' events and time-index rows in ONE transaction (group commit),
        pipelined: the table lock and the notification once, then every insert; any
        failure rolls back all of them (the caller sorts out whose)."""
        failed: Exception | None = None
        with self.datastore.get_connection() as conn:
            # No statement is prepared inside the pipeline: when one insert fails, the server
            # skips the rest of it, a PREPARE included, while psycopg would count that
            # statement as prepared ("prepared statement ... does not exist" later on).
            threshold, conn.prepare_threshold = conn.prepare_threshold, None
            try:
                # A command alone is not pipelined: a pipeline reports a failed insert either as
                # itself or as "pipeline aborted" on a later statement, and a caller alone
                # (including each one retried after its batch failed) must get its own error.
                pipelining = conn.pipeline() if len(commands) > 1 else nullcontext()
                with pipelining as pipeline, conn.transaction(), conn.cursor() as curs:
                    try:
                        for statement in self.lock_table_statements:
                            curs.execute(statement, prepare=False)
                        self._notify_channel(curs)
                        for stored_events, times in commands:
                            # The events first: a lost race fails on their unique key.
                            PostgresAggregateRecorder._insert_stored_events(
                                self, curs, stored_events
                            )
                            if times:
                                curs.executemany(
                                    self.insert_time_statement, [self._id_row(t) for t in times]
                                )
                        if pipeline is not None:
                            pipeline.sync()
                    except Exception as error:  # noqa: BLE001 - raised once the pipeline is closed
                        failed = error
            finally:
                conn.prepare_threshold = threshold
        if failed is None:
            return
        if isinstance(failed, psycopg.IntegrityError):
            raise IntegrityError(str(failed)) from failed
        if isinstance(failed, psycopg.OperationalError):
            raise OperationalError(str(failed)) from failed
        raise failed

    def _id_row(self, row: EventTime) -> tuple[UUID | str, int, int]:
        originator, version, micros = row
        if self.datastore.originator_id_type == "text":
            return str(originator), version, micros
        return originator, version, micros

    def version_at(self, originator_id: UUID, micros: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self.select_version_statement,
                (self._id_row((originator_id, 0, 0))[0], micros),
            )
            row = curs.fetchone()
            return None if row is None or row["version"] is None else int(row["version"])


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
