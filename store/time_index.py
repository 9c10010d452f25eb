"""The time index: each event's recorded time, as whole microseconds, keyed to its version.

Both recorders keep it, so `as-of` finds the version at an instant with one index lookup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import StoredEvent

#: The kwarg by which `save()` hands each event's recorded time to the recorder.
EVENT_TIMES = "amity_event_times"


def recorded_micros(moment: datetime) -> int:
    """A UTC instant as whole microseconds since the epoch (the time index's key)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: (aggregate id, version, recorded microseconds): one row of the time index per event.
EventTime = tuple[UUID, int, int]


def stored_timestamp(state: bytes) -> datetime:
    return datetime.fromisoformat(json.loads(state)["timestamp"])


#: (aggregate id, version, kind, day_us, target, clock_us, base_us, recorded_us,
#: request_id, the first version of its command): one row of the effective index per
#: event (store/effective_index.py).
EffectiveRow = tuple[UUID, int, int, int | None, int | None, int | None, int | None, int, str, int]

#: One command's rows: its stored events, their time-index rows and their effective-index
#: rows (all written together; no effective rows where the store keeps no such index).
CommandRows = tuple[Sequence[StoredEvent], Sequence[EventTime], Sequence[EffectiveRow]]
