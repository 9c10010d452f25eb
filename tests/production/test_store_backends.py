"""The event store on SQLite and on PostgreSQL alike: exactly-once appends, optimistic
concurrency between separate store instances (as separate worker processes would have),
snapshots, the time index, and tamper evidence on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import psycopg
import pytest

from amity import story
from domain.decider import decide
from domain.errors import IllegalEvent
from domain.events import AnyEvent
from domain.parsing import parse_command
from domain.registry import Rejection
from runtime.settings import open_store
from store.application import CommandMeta, PartnershipStore, StoreConflict
from tests.audit.conftest import AuditCli, tell_story

pytestmark = pytest.mark.both_stores

PID = "partnership-mianyang-cupertino"


def exchange_events(store: PartnershipStore, pid: str, n: int) -> tuple[list[AnyEvent], int]:
    state = store.state(pid)
    assert state is not None
    payload = {**story.load("record_exchange.json"), "request_id": f"x-{n}"}
    decision = decide(state, parse_command("record_exchange", payload), datetime.now(UTC))
    assert not isinstance(decision, Rejection)
    return decision, state.version


def meta(request_id: str) -> CommandMeta:
    return CommandMeta("record_exchange", "tester", request_id, PID, "run-1")


def test_append_is_exactly_once_and_refuses_a_stale_or_illegal_append(
    store: PartnershipStore,
) -> None:
    assert tell_story(store, PID) == 11
    events, version = exchange_events(store, PID, 1)
    first = store.append(PID, events, meta("x-1"), version)
    again = store.append(PID, events, meta("x-1"), version)
    assert (first.version, first.duplicate) == (12, False)
    assert (again.version, again.duplicate) == (12, True)
    with pytest.raises(StoreConflict, match="store is at version 12"):
        store.append(PID, events, meta("x-2"), version)
    talks = store.history(PID)[1].event  # talks_opened: illegal once active
    with pytest.raises(IllegalEvent):
        store.append(PID, [talks], meta("x-3"), 12)
    assert [e.originator_version for e in store.history(PID)] == list(range(1, 13))


def test_separate_store_instances_race_without_losing_or_doubling(store_url: str) -> None:
    """Two stores on one database (two worker processes): 16 writers race on one
    partnership. A writer that loses the race gets StoreConflict and retries from a fresh
    read; a repeated request is recognised; nothing is lost, nothing is written twice."""
    stores = [open_store(store_url), open_store(store_url)]
    try:
        tell_story(stores[0], PID)
        conflicts = 0
        lock = threading.Lock()
        start = threading.Barrier(16)

        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                write(n)
            except BaseException as error:  # surfaced below: a thread's error is no warning
                errors.append(error)

        def write(n: int) -> None:
            nonlocal conflicts
            mine = stores[n % 2]
            start.wait()
            for _ in range(200):
                events, version = exchange_events(mine, PID, n)
                try:
                    mine.append(PID, events, meta(f"x-{n}"), version)
                except StoreConflict:
                    with lock:
                        conflicts += 1
                    continue
                # the same command delivered again (a retried activity) changes nothing
                assert mine.append(PID, events, meta(f"x-{n}"), version).duplicate
                return
            raise AssertionError(f"writer {n} never got through in 200 attempts")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors  # e.g. a conflict surfacing as anything but StoreConflict
        for reader in stores:
            stored = reader.history(PID)
            assert [e.originator_version for e in stored] == list(range(1, 28))
            assert sorted(e.request_id for e in stored[11:]) == sorted(f"x-{n}" for n in range(16))
            state = reader.state(PID)
            assert state is not None and state.version == 27
        assert conflicts > 0  # the race did happen
    finally:
        for opened in stores:
            opened.close()


def test_snapshots_and_the_time_index_give_the_same_states(store_url: str) -> None:
    store = open_store(store_url, snapshot_interval=4)
    try:
        before = datetime.now(UTC)
        tell_story(store, PID)
        after = datetime.now(UTC)
        assert store.snapshots is not None
        snapshots = list(store.snapshots.get(store.history(PID)[0].originator_id))
        assert [s.originator_version for s in snapshots] == [4, 8]
        # rebuilt from the log alone, without snapshots
        with_snapshots = store.state(PID)
        plain = open_store(store_url, env={"IS_SNAPSHOTTING_ENABLED": "n"})
        try:
            assert plain.snapshots is None
            assert plain.state(PID) == with_snapshots
        finally:
            plain.close()
        assert store.version_at(PID, before) is None
        assert store.version_at(PID, after) == 11
        assert store.state_at(PID, after) == with_snapshots
    finally:
        store.close()


def test_verify_on_the_store_and_a_rewrite_is_caught(
    store: PartnershipStore, audit_cli: AuditCli, store_url: str, store_backend: str
) -> None:
    for pid in ("partnership-a-b", "partnership-c-d"):
        tell_story(store, pid)
    assert audit_cli("checkpoint").exit_code == 0
    ok = audit_cli("verify")
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK: 22 entries")
    if store_backend != "postgresql":
        return  # SQLite rewrites are covered in tests/audit/test_tamper.py
    with psycopg.connect(
        store_url.replace("postgresql://postgres:@", "postgresql://postgres@")
    ) as db:
        (state,) = db.execute(
            "SELECT state FROM amity_events ORDER BY notification_id OFFSET 14 LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        changed = bytes(state).replace(b"Cupertino", b"Cupertin0", 1)
        assert changed != bytes(state)
        db.execute(
            "UPDATE amity_events SET state = %s WHERE notification_id ="
            " (SELECT notification_id FROM amity_events ORDER BY notification_id"
            " OFFSET 14 LIMIT 1)",
            (changed,),
        )
    bad = audit_cli("verify")
    assert bad.exit_code == 1
    assert "first bad position 14" in bad.stderr, bad.stdout + bad.stderr
