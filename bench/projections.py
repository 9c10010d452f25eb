"""The projections case: rebuilding the read models from the whole log, against only reading and
decoding the same log (the same batches, the same mapper: what any rebuild must do)."""

from __future__ import annotations

import time

from eventsourcing.persistence import StoredEvent

from audit.gc import paused_gc
from audit.log import rows_after
from audit.projections import BATCH, ReadModels, decode_rows
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


def read_decode_rows_rate(url: str, limit: int | None = None) -> float:
    """Reading and decoding the log as a rebuild does (plain rows, `decode_rows`): the
    stricter floor, since the rebuild no longer reads through StoredEvent objects."""
    store = open_store(url)
    try:
        count, after = 0, 0
        started = time.perf_counter()
        while limit is None or count < limit:
            rows = rows_after(store, after, BATCH)
            with paused_gc():  # as the rebuild decodes
                decode_rows(store, rows)
            count += len(rows)
            if len(rows) < BATCH:
                break
            after = rows[-1][0]
        return count / (time.perf_counter() - started)
    finally:
        store.close()


def measure(opts: Options, url: str, events: int) -> list[Row]:
    warm = min(events, 20_000)
    rebuild_rate(url, warm)
    read_decode_rate(url, warm)
    read_decode_rows_rate(url, warm)
    rebuilds: list[float] = []
    floors: list[float] = []
    row_floors: list[float] = []
    sides = [
        (rebuild_rate, rebuilds),
        (read_decode_rate, floors),
        (read_decode_rows_rate, row_floors),
    ]
    for rep in range(opts.repeat):
        # Rotate the order, so no side always runs on a warmer cache.
        for fn, samples in sides[rep % 3 :] + sides[: rep % 3]:
            samples.append(fn(url))
        say(
            f"projections: rebuild {rebuilds[-1]:,.0f}/s, read+decode {floors[-1]:,.0f}/s,"
            f" as the rebuild reads {row_floors[-1]:,.0f}/s"
        )
    metric = f"rebuild events/s ({events:,} events)"
    row = Row(
        "4 projections",
        metric,
        "/s",
        rebuilds,
        floors,
        "read + decode the same log",
    )
    strict = Row(
        "4 projections",
        metric,
        "/s",
        rebuilds,
        row_floors,
        "read + decode as the rebuild does (plain rows, decode_rows)",
        note="informative floor: the rebuild reads plain rows and decodes them from their"
        " columns, cheaper than the floor above (Notification, StoredEvent, UUID per event)",
    )
    return [check(row, row.ratio, ">=", 0.5), strict]
