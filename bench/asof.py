"""The as-of case: a partnership's state as of version 9,000 of 10,000 (`amity audit as-of
--version`), as a fresh process does it (empty aggregate cache): with the store's
snapshots (every AMITY_SNAPSHOT_INTERVAL events), and with snapshots switched off."""

from __future__ import annotations

import time

from audit.asof import as_of
from bench.common import Options, Row, check, say
from store.application import PartnershipStore

LONG_ID = "partnership-bench-long"


class WithoutSnapshots(PartnershipStore):
    is_snapshotting_enabled = False


def sample(store_class: type[PartnershipStore], url: str, version: int) -> float:
    store = store_class(url)
    try:
        started = time.perf_counter()
        state = as_of(store, LONG_ID, version=version)
        elapsed = time.perf_counter() - started
        assert state.version == version
        return elapsed * 1000
    finally:
        store.close()


def measure(opts: Options, url: str, events: int) -> list[Row]:
    version = min(opts.as_of_version, events)
    rows = []
    for label, store_class in (
        ("with snapshots", PartnershipStore),
        ("without snapshots", WithoutSnapshots),
    ):
        sample(store_class, url, version)  # warm-up
        samples = [sample(store_class, url, version) for _ in range(max(opts.repeat, 3))]
        say(f"as-of {label}: {[round(s, 1) for s in samples]} ms")
        rows.append(
            Row(
                "5 as-of",
                f"version {version:,} of {events:,}, {label}",
                "ms",
                samples,
                better="lower",
            )
        )
    check(rows[0], rows[0].median, "<=", 50)
    rows[0].target = "< 50 ms"
    rows[1].note = "the fold from version 1 (what snapshots save)"
    return rows
