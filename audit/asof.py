"""A partnership's state at a version, or on a date, in both of its times.

`at` is effective time: the state as in effect on that date (the signing date, the exchange
dates, ... decide; audit/effective.py). `known_at` is recorded time: only what the register
had recorded by then (through the time index). Together: what the register said on
`known_at` about `at`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from audit.effective_index import state_in_effect
from audit.gc import paused_gc
from domain.identity import aggregate_id
from domain.state import PartnershipState
from runtime.redact import redact_url
from store.application import PartnershipStore


class AsOfError(ValueError):
    """No such state: unknown partnership, version out of range, or before its first event."""


def parse_moment(text: str, option: str = "--at") -> datetime:
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
            f"{option} {text!r} is not an ISO 8601 date or time (e.g. 2017-11-15T10:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_of(
    store: PartnershipStore,
    partnership_id: str,
    *,
    at: datetime | None = None,
    version: int | None = None,
    known_at: datetime | None = None,
) -> PartnershipState:
    if version is not None and (at is not None or known_at is not None):
        raise AsOfError("give --version alone, or --at and/or --known-at")
    if version is None and at is None and known_at is None:
        raise AsOfError("give --at DATE (in effect), --known-at DATE (recorded) or --version N")
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
        assert found is not None
        return found
    known = None
    if known_at is not None:
        known = store.version_at(partnership_id, known_at)
        if known is None:
            first = store.history(partnership_id, lte=1)
            raise AsOfError(
                f"{partnership_id} was not recorded yet at {known_at.isoformat()}"
                f" (first recorded {first[0].timestamp.isoformat()})"
            )
        if at is None:
            with paused_gc():
                recorded = store.state(partnership_id, known)
            assert recorded is not None
            return recorded
    assert at is not None
    with paused_gc():
        found = state_in_effect(
            store, partnership_id, at, known if known is not None else last[0].originator_version
        )
    if found is None:
        raise AsOfError(
            f"{partnership_id} was not in effect yet on {at.isoformat()}"
            + (f" as recorded by {known_at.isoformat()}" if known_at else "")
        )
    return found
