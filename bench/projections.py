"""The projections case: rebuilding the read models from the whole log, against only reading and
decoding the same log (the same batches, the same mapper: what any rebuild must do)."""

from __future__ import annotations

import time

from eventsourcing.persistence import StoredEvent

from audit.log import rows_after
from audit.projections import BATCH, ReadModels
from bench.common import Options, Row, check, say
from runtime.settings import open_store


def rebuild_rate(url: str, limit: int | None = None) -> float:
    store = open_store(url)
    try:
        models = ReadModels(store)
        models.reset()
        started = time.perf_counter()
        applied = models.catch_up(batch=BATCH) if limit is None else _partial(models, limit)
        return applied / (time.perf_counter() - started)
    finally:
        store.close()


def _partial(models: ReadModels, limit: int) -> int:
    """A warm-up: apply only about `limit` events."""
    applied = 0
    while applied < limit:
        start = models.position()
        found = rows_after(models.store, start, BATCH)
        if not found:
            break
        models._apply(start, found)
        applied += len(found)
    return applied


def read_decode_rate(url: str, limit: int | None = None) -> float:
    store = open_store(url)
    try:
        mapper = store.mapper
        count, start = 0, 1
        started = time.perf_counter()
        while limit is None or count < limit:
            found = store.recorder.select_notifications(start=start, limit=BATCH)
            for n in found:
                mapper.to_domain_event(
                    StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                )
            count += len(found)
            if len(found) < BATCH:
                break
            start = found[-1].id + 1
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def measure(opts: Options, url: str, events: int) -> list[Row]:
    warm = min(events, 20_000)
    rebuild_rate(url, warm)
    read_decode_rate(url, warm)
    rebuilds, floors = [], []
    for rep in range(opts.repeat):
        # Alternate the order, so neither side always runs on a warmer cache.
        pair = (
            (rebuild_rate, read_decode_rate) if rep % 2 == 0 else (read_decode_rate, rebuild_rate)
        )
        for fn in pair:
            (rebuilds if fn is rebuild_rate else floors).append(fn(url))
        say(f"projections: rebuild {rebuilds[-1]:,.0f}/s, read+decode {floors[-1]:,.0f}/s")
    row = Row(
        "4 projections",
        f"rebuild events/s ({events:,} events)",
        "/s",
        rebuilds,
        floors,
        "read + decode the same log",
    )
    return [check(row, row.ratio, ">=", 0.5)]
