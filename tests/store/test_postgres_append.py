"""PostgreSQL appends are one call of the store's append function on a connection of the
group commit's own: it must still do what the library's insert did (the table lock that keeps
notification ids in commit order, the NOTIFY that wakes subscribers), and a writer connection
the server dropped must not sink every later append.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError

from bench.data import meta, story_commands
from runtime.settings import open_store
from store.application import PartnershipStore
from store.postgres import PostgresTimeIndexedRecorder
from tests.production.postgres import PostgresServer


@pytest.fixture
def pg(postgres: PostgresServer) -> Iterator[tuple[PartnershipStore, str]]:
    url = postgres.new_database()
    store = open_store(url)
    yield store, url
    store.close()


def _append(store: PartnershipStore, pid: str) -> int:
    name, payload, events = story_commands(pid)[0]
    return store.append(pid, events, meta(name, payload, pid), None).version


def _recorder(store: PartnershipStore) -> PostgresTimeIndexedRecorder:
    recorder = store.recorder
    assert isinstance(recorder, PostgresTimeIndexedRecorder)
    return recorder


def test_an_append_notifies_listeners(pg):
    store, url = pg
    recorder = _recorder(store)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        _append(store, "partnership-notify")
        heard = list(listener.notifies(timeout=10, stop_after=1))
    assert [n.channel for n in heard] == [recorder.channel_name]


def test_an_append_waits_for_the_events_table_lock(pg):
    """While another transaction holds the table in EXCLUSIVE mode, an append queues for
    that very lock (seen in pg_locks: a bare INSERT would wait in ROW EXCLUSIVE mode) and
    lands only once that transaction ends."""
    store, url = pg
    recorder = _recorder(store)
    _append(store, "partnership-warm")  # the writer connection exists
    table = recorder.events_table_name
    done = threading.Event()
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as watcher:
        holder.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        thread = threading.Thread(target=lambda: (_append(store, "partnership-locked"), done.set()))
        thread.start()
        waiting: list[str] = []
        deadline = time.monotonic() + 20
        while not waiting and time.monotonic() < deadline:
            rows = watcher.execute(
                "SELECT mode FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
                (table,),
            ).fetchall()
            waiting = [row[0] for row in rows]
            time.sleep(0.01)
        assert waiting == ["ExclusiveLock"]
        assert not done.is_set()
        holder.rollback()
        thread.join(20)
    assert done.is_set()
    assert len(store.history("partnership-locked")) == 1


def test_a_writer_connection_the_server_dropped_is_replaced(pg):
    store, url = pg
    recorder = _recorder(store)
    _append(store, "partnership-before")
    writer = recorder._writer
    assert writer is not None
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (writer.info.backend_pid,))
    with contextlib.suppress(PersistenceError):  # may fail: its connection is gone
        _append(store, "partnership-dropped")
    assert _append(store, "partnership-after") == 1
    assert recorder._writer is not None and recorder._writer is not writer
    assert len(store.history("partnership-after")) == 1


def test_an_append_finds_the_previous_index_row_by_its_key_not_by_scanning(pg):
    """Each effective-index row's `chained` looks up the row before it. Written as a
    semi-join, the plan PostgreSQL cached in the append function while the table was small
    scanned the whole table for every append (each append slower as the log grew: 837/s for
    the first thousand, 398/s by the fourth). Counted in the server's own statistics: the
    appends probe the primary key, and scan the table no more than a handful of times."""
    store, url = pg
    appends = 120
    for number in range(appends):
        pid = f"partnership-chain-{number:04d}"
        for name, payload, events in story_commands(pid)[:2]:
            version = None if name == "propose" else 1
            store.append(pid, events, meta(name, payload, pid), version)
    table = _recorder(store).effective_table_name
    writer = _recorder(store)._writer_connection()
    writer.execute("SELECT pg_stat_force_next_flush()")
    writer.execute("SELECT 1")  # the statistics are sent as this statement ends
    with psycopg.connect(url, autocommit=True) as reader:
        reader.execute("SELECT pg_stat_clear_snapshot()")
        row = reader.execute(
            "SELECT seq_scan, idx_scan FROM pg_stat_user_tables WHERE relname = %s", (table,)
        ).fetchone()
    assert row is not None
    seq_scan, idx_scan = row
    assert idx_scan >= appends, (seq_scan, idx_scan)
    assert seq_scan < 10, (seq_scan, idx_scan)
