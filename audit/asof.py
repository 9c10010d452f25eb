"""A partnership's state as it was at a version, or at a moment (through the time index)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from audit.gc import paused_gc
from domain.identity import aggregate_id
from domain.state import PartnershipState
from runtime.redact import redact_url
from store.application import PartnershipStore


class AsOfError(ValueError):
    """No such state: unknown partnership, version out of range, or before its first event."""


def parse_moment(text: str) -> datetime:
    """ISO 8601; no zone means UTC; a date alone means the end of that day (UTC)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(
                microseconds=1
            )
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise AsOfError(
            f"--at {text!r} is not an ISO 8601 date or time (e.g. 2017-11-15T10:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_of(
    store: PartnershipStore,
    partnership_id: str,
    *,
    at: datetime | None = None,
    version: int | None = None,
) -> PartnershipState:
    if (at is None) == (version is None):
        raise AsOfError("give exactly one of --at TIMESTAMP or --version N")
    # The last version from one index lookup: rebuilding the current aggregate just to
    # check the range would decode a second snapshot, doubling the cost of one as-of read.
    last = store.recorder.select_events(aggregate_id(partnership_id), desc=True, limit=1)
    if not last:
        raise AsOfError(f"no history for {partnership_id} in {redact_url(store.url)}")
    if version is not None:
        latest = last[0].originator_version
        if not 1 <= version <= latest:
            raise AsOfError(
                f"{partnership_id} has versions 1..{latest}; there is no version {version}"
            )
        with paused_gc():  # a long state is ~100,000 fresh objects: see audit/gc.py
            found = store.state(partnership_id, version)
    else:
        assert at is not None
        with paused_gc():
            found = store.state_at(partnership_id, at)
        if found is None:
            first = store.history(partnership_id, lte=1)
            raise AsOfError(
                f"{partnership_id} did not exist yet at {at.isoformat()}"
                f" (first recorded {first[0].timestamp.isoformat()})"
            )
    assert found is not None
    return found
