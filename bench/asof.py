"""As-of: a partnership's state as of a version or a moment (`amity audit as-of`), as a
fresh process does it (empty aggregate cache).

- by version: version 9,000 of a 10,000-event partnership, with the store's snapshots
  (every AMITY_SNAPSHOT_INTERVAL events) and with snapshots switched off;
- by date, recorded time (`--known-at`): a moment late in a 100,000-event partnership,
  through the time index (one indexed lookup for the version), then the snapshot before it
  and a short fold;
- by date, effective time (`--at`): the same moment as the date in effect, through the
  store's effective index (each event's own dates and clocks as integers, read in one
  query), then the snapshot before the first event not in effect yet and a short fold
  (audit/effective_index.py); and the same answer by the full fold the index stands in for
  (every event read, decoded and folded: what an older or encrypted store still does).

The state is bounded (domain/state.py), so a snapshot is a few kilobytes at any length.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.asof import as_of
from bench.common import Options, Row, check, say
from bench.data import write_long_partnership
from runtime.settings import open_store
from store.application import PartnershipStore

LONG_ID = "partnership-bench-long"


class WithoutSnapshots(PartnershipStore):
    is_snapshotting_enabled = False


class WithoutEffectiveIndex(PartnershipStore):
    """A store as one written before the effective index: as-of by date folds it all."""

    name = PartnershipStore.name  # the same tables on PostgreSQL (named after the app)

    def effective_reads(self, partnership_id: str, last: int) -> None:
        return None


def prepared(url: str, events: int) -> float:
    """The long partnership of `events` events in `url` (kept if already there): seconds."""
    store = open_store(url)
    started = time.perf_counter()
    try:
        existing = store.aggregate(LONG_ID)
        if existing is not None and (
            existing.version != events or store.effective_index(LONG_ID, events) is None
        ):
            say(f"{url}: another length, or written without the effective index: rewritten")
            store.close()
            Path(url.removeprefix("sqlite:///")).unlink()
            store = open_store(url)
            existing = None
        if existing is None:
            write_long_partnership(store, LONG_ID, events, per_command=2_000)
    finally:
        store.close()
    return time.perf_counter() - started


def sample(
    store_class: type[PartnershipStore],
    url: str,
    *,
    version: int | None = None,
    at: datetime | None = None,
    known_at: datetime | None = None,
) -> tuple[float, int]:
    store = store_class(url)
    try:
        started = time.perf_counter()
        state = as_of(store, LONG_ID, version=version, at=at, known_at=known_at)
        elapsed = time.perf_counter() - started
        return elapsed * 1000, len(state.model_dump_json())
    finally:
        store.close()


def moment_of(url: str, version: int) -> datetime:
    store = open_store(url)
    try:
        return store.history(LONG_ID, gt=version - 1, lte=version)[0].timestamp
    finally:
        store.close()


def by_version(opts: Options, url: str, events: int) -> list[Row]:
    version = min(opts.as_of_version, events)
    rows = []
    for label, store_class in (
        ("with snapshots", PartnershipStore),
        ("without snapshots", WithoutSnapshots),
    ):
        sample(store_class, url, version=version)  # warm-up
        taken = [sample(store_class, url, version=version) for _ in range(max(opts.repeat, 3))]
        samples = [ms for ms, _ in taken]
        say(f"as-of {label}: {[round(s, 1) for s in samples]} ms, state {taken[0][1]:,} bytes")
        rows.append(
            Row(
                "5 as-of",
                f"version {version:,} of {events:,}, {label}",
                "ms",
                samples,
                better="lower",
                note=f"state {taken[0][1]:,} bytes",
            )
        )
    check(rows[0], rows[0].median, "<=", 50)
    rows[0].target = "< 50 ms"
    rows[1].note = "the fold from version 1 (what snapshots save)"
    return rows


def by_date(opts: Options, url: str, events: int) -> list[Row]:
    moment = moment_of(url, events * 9 // 10)
    rows = []
    for label, store_class, when in (
        ("recorded time", PartnershipStore, {"known_at": moment}),
        ("effective time", PartnershipStore, {"at": moment}),
        ("effective time, full fold", WithoutEffectiveIndex, {"at": moment}),
    ):
        sample(store_class, url, **when)  # warm-up
        taken = [sample(store_class, url, **when) for _ in range(max(opts.repeat, 3))]
        samples = [ms for ms, _ in taken]
        say(f"as-of by date ({label}) in {events:,} events: {[round(s, 1) for s in samples]} ms")
        rows.append(
            Row(
                "5 as-of",
                f"by date ({label}), 9/10 into {events:,} events",
                "ms",
                samples,
                better="lower",
            )
        )
    recorded, effective, full = rows
    recorded.note = "time index, the snapshot before, a short fold"
    check(recorded, recorded.median, "<=", 100)
    recorded.target = "< 100 ms"
    effective.note = "effective index, the snapshot before, a short fold"
    check(effective, effective.median, "<=", 100)
    effective.target = "< 100 ms"
    full.note = "every event decoded and folded (a store without the index, or encrypted)"
    return rows


def run(opts: Options, workdir: Path, extra: dict[str, Any]) -> list[Row]:
    """Both partnerships written (or kept, with --workdir), then both cases."""
    long_url = f"sqlite:///{workdir / 'long.db'}"
    extra["generate_long_seconds"] = prepared(long_url, opts.long_events)
    rows = by_version(opts, long_url, opts.long_events)
    dated_url = f"sqlite:///{workdir / f'long-{opts.date_events}.db'}"
    extra["generate_dated_seconds"] = prepared(dated_url, opts.date_events)
    rows.extend(by_date(opts, dated_url, opts.date_events))
    return rows
