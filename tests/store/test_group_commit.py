"""Group commit on SQLite and PostgreSQL: appends from many threads share transactions, yet
each partnership's versions stay gapless, a conflict is refused per aggregate, and a command
that fails fails alone.

Which commands share a transaction depends on timing; to make it certain, `gated` holds the
first transaction until the given number of callers queue behind it (they then all go into
the next one).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest
from eventsourcing.persistence import IntegrityError

from bench.data import meta, story_commands
from domain.identity import aggregate_id
from runtime.settings import open_store
from store.application import PartnershipStore, StoreConflict
from store.group_commit import GroupCommit
from store.time_index import CommandRows

pytestmark = pytest.mark.both_stores


class Gated(GroupCommit[CommandRows]):
    #: Set once the first transaction is being written (and held).
    holding: threading.Event


def gated(store: PartnershipStore, behind: int) -> Gated:
    """The store's group commit, its first transaction held until `behind` callers wait."""
    recorder = store.recorder
    first = threading.Event()

    def write(jobs: Sequence[CommandRows]) -> None:
        if not first.is_set():
            first.set()
            deadline = time.monotonic() + 20
            while commit.queued < behind and time.monotonic() < deadline:
                time.sleep(0.002)
        recorder.insert_commands(jobs)  # type: ignore[attr-defined]

    commit = Gated(write)
    commit.holding = first
    store.group_commit = commit
    return commit


def run_all(jobs: list[Callable[[], object]]) -> list[object]:
    """Run each job on its own thread; their results or exceptions, in order."""
    out: list[object] = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            out[index] = jobs[index]()
        except Exception as error:
            out[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return out


@pytest.fixture
def store(store_url: str):
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_concurrent_appends_share_transactions_and_keep_versions_gapless(store):
    partnerships = [f"partnership-group-{n}" for n in range(12)]
    stories = {pid: story_commands(pid) for pid in partnerships}
    commit = gated(store, behind=5)

    def tell(pid: str) -> Callable[[], object]:
        def run() -> object:
            version = None
            for name, payload, events in stories[pid]:
                version = store.append(pid, events, meta(name, payload, pid), version).version
            return version

        return run

    results = run_all([tell(pid) for pid in partnerships])
    assert not [r for r in results if isinstance(r, BaseException)], results
    # Several commands went into one transaction (the gate made sure of it).
    assert commit.commands == sum(len(s) for s in stories.values())
    assert commit.transactions < commit.commands
    for pid in partnerships:
        history = store.history(pid)
        events = [e for _, _, events in stories[pid] for e in events]
        assert [h.originator_version for h in history] == list(range(1, len(events) + 1))
        assert [h.event for h in history] == events
    # The log and the time index agree on what was written, event for event.
    total = sum(len(store.history(pid)) for pid in partnerships)
    assert store.recorder.max_notification_id() is not None
    assert len(store.notifications(limit=10_000)) == total


def test_a_conflict_is_refused_per_aggregate_within_one_transaction(store):
    name, payload, events = story_commands("partnership-race")[0]
    other_name, other_payload, other_events = story_commands("partnership-bystander")[0]
    store.append("partnership-warmup", *_first("partnership-warmup"))
    commit = gated(store, behind=5)
    store_busy = threading.Thread(
        target=store.append,
        args=("partnership-opener", *_first("partnership-opener")),
    )
    store_busy.start()  # holds the first transaction while the rest queue
    assert commit.holding.wait(20)

    def racer(n: int) -> Callable[[], object]:
        # Four writers append the same partnership's first command under different ids.
        return lambda: store.append(
            "partnership-race",
            events,
            meta(name, {**payload, "request_id": f"racer-{n}"}, "partnership-race"),
            None if n == 0 else 0,
        )

    bystander = lambda: store.append(  # noqa: E731
        "partnership-bystander",
        other_events,
        meta(other_name, other_payload, "partnership-bystander"),
        None,
    )
    results = run_all([racer(n) for n in range(4)] + [bystander])
    store_busy.join(60)
    won = [r for r in results[:4] if not isinstance(r, BaseException)]
    lost = [r for r in results[:4] if isinstance(r, BaseException)]
    assert len(won) == 1 and won[0].version == 1
    assert len(lost) == 3 and all(isinstance(r, StoreConflict) for r in lost), lost
    assert results[4].version == 1  # the bystander in the same batch committed
    assert [h.originator_version for h in store.history("partnership-race")] == [1]
    assert len(store.history("partnership-bystander")) == 1


def test_a_failing_command_in_a_batch_fails_only_its_caller(store):
    """Rows that cannot be written (two events at one version) sink their own command only."""
    commit = gated(store, behind=3)
    bad_id = aggregate_id("partnership-bad")
    good = [_rows(store, f"partnership-good-{n}") for n in range(3)]
    stored, times, effective = _rows(store, "partnership-bad")
    bad = ([stored[0], stored[0]], [times[0], times[0]], [effective[0], effective[0]])
    results = run_all(
        [lambda: commit.submit(good[0])]
        + [lambda rows=rows: commit.submit(rows) for rows in (good[1], bad, good[2])]
    )
    assert isinstance(results[2], IntegrityError), results
    assert [r for i, r in enumerate(results) if i != 2] == [None, None, None], results
    for n in range(3):
        assert len(store.history(f"partnership-good-{n}")) == 1
        assert _indexed(store, f"partnership-good-{n}")
    assert not list(store.events.get(bad_id))
    assert not _indexed(store, "partnership-bad")  # rolled back with its events


def _indexed(store: PartnershipStore, pid: str) -> bool:
    reads = store.effective_reads(pid, 1)
    assert reads is not None
    with reads:
        return bool(reads.all())


def _first(pid: str):
    name, payload, events = story_commands(pid)[0]
    return events, meta(name, payload, pid), None


def _rows(store: PartnershipStore, pid: str) -> CommandRows:
    """What `append` hands the group commit for a partnership's first command."""
    from datetime import UTC, datetime

    from domain.aggregate import PartnershipEvent
    from store.effective_index import effective_row
    from store.time_index import recorded_micros

    name, _payload, events = story_commands(pid)[0]
    now = datetime.now(UTC)
    event = PartnershipEvent(
        originator_id=aggregate_id(pid),
        originator_version=1,
        timestamp=now,
        command=name,
        via="update",
        actor="test",
        request_id=f"{pid}-1",
        workflow_id=pid,
        run_id="run",
        event=events[0],
    )
    return (
        [store.mapper.to_stored_event(event)],
        [(aggregate_id(pid), 1, recorded_micros(now))],
        [effective_row(aggregate_id(pid), 1, events[0], now, f"{pid}-1", None, 1)],
    )
