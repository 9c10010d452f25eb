"""An append Temporal cancels while it waits for the SQLite write lock.

Temporal cancels a synchronous activity (a timeout, a shutdown) by raising in its thread, at
whatever line it is running. Raised just after `BEGIN IMMEDIATE` got the lock, that left the
store's writer connection inside a transaction, and every later append of the process failed
with "cannot start a transaction within a transaction": the full fault suite's locked-file
scenario (the file held 40 s) saw every partnership stuck. The store activities opt out of
that exception (an append is never cut mid-transaction; the lock timeout bounds it), and the
writer rolls back a transaction an interrupted call left open.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from activities.messages import RecordRequest
from activities.store import StoreActivities
from bench.data import meta, story_commands
from runtime.settings import open_store
from store.application import PartnershipStore


def request(partnership_id: str) -> RecordRequest:
    command, _payload, events = story_commands(partnership_id)[0]
    return RecordRequest(
        partnership_id=partnership_id,
        workflow_id=partnership_id,
        run_id="run-1",
        command=command,
        via="start",
        actor="test",
        request_id=f"{partnership_id}/propose",
        expected_version=None,
        events=events,
    )


def append_proposal(store: PartnershipStore, partnership_id: str) -> int:
    """Append a partnership's proposal straight to the store; its version."""
    wanted = request(partnership_id)
    meta_ = meta(wanted.command, {"request_id": wanted.request_id}, partnership_id)
    return store.append(partnership_id, wanted.events, meta_, None).version


def test_an_append_cancelled_while_waiting_for_the_lock_finishes_and_leaves_the_store_writable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    store = open_store(f"sqlite:///{path}")
    activities = StoreActivities(store)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process's writer holds the file
    environment = ActivityEnvironment()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = environment.run(
                activities.record_events, request("partnership-cancelled")
            )
        except BaseException as error:  # the outcome is what the test reads
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)  # the append waits in BEGIN IMMEDIATE
    environment.cancel()  # what Temporal does on a timeout or a shutdown
    time.sleep(0.3)
    locker.execute("COMMIT")  # the lock is free: BEGIN returns holding it
    thread.join(30)
    assert not thread.is_alive()
    try:
        # The cancelled append was not cut in the middle: it finished, once.
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"].version == 1
        # And the store still takes appends (before the fix: "cannot start a transaction
        # within a transaction", for good).
        version = append_proposal(store, "partnership-after")
        assert version == 1
        assert [s.originator_version for s in store.history("partnership-cancelled")] == [1]
    finally:
        store.close()
        locker.close()


@pytest.mark.both_stores
def test_the_writer_starts_clean_after_an_interrupted_append_left_a_transaction_open(
    store_url: str,
) -> None:
    """Whatever interrupts an append between BEGIN and its clean-up (an exception raised in
    its thread by anything), the next append starts clean, and it is durable: on PostgreSQL
    a writer left inside a transaction would run the next append in it and never commit it,
    answering success for events no other connection ever sees."""
    store = open_store(store_url)
    try:
        append_proposal(store, "partnership-first")
        recorder: Any = store.recorder
        if store_url.startswith("sqlite"):
            recorder._writer.execute("BEGIN IMMEDIATE")  # left open, as by a call cut short
        else:
            recorder._writer_connection().execute("BEGIN")
        version = append_proposal(store, "partnership-second")
        assert version == 1
    finally:
        store.close()
    reopened = open_store(store_url)  # another connection: only what was committed
    try:
        assert len(reopened.history("partnership-second")) == 1
    finally:
        reopened.close()
