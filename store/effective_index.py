"""The effective index: what each event says, on its own, about when it took effect.

The state in effect on a date (audit/effective.py) depends on every event's effective
instant, and those can be back-dated and corrected, so without this index the whole history
is decoded to learn them (seconds for 100,000 events). Each event's facts are a few
integers, written in the same transaction as the event (both recorders, group commit
included), so the index never disagrees with the log about which events exist; reading a
partnership's rows costs milliseconds, and the fold in effect can then start from a
snapshot (audit/effective_index.py).

A store that encrypts at rest keeps no such index: the dates are the events' content,
which the key is there to keep from whoever reads the database.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.effective import (
    DATED,
    FIXED_CLOCKS,
    POLICY_CLOCKS,
    clock_base,
    corrected_day,
    engine_clock,
    own_day,
    start_of,
)
from domain.events import AnyEvent
from domain.values import Policy
from store.time_index import EffectiveRow, recorded_micros

#: How an event's effective instant is found (the `kind` column).
OTHER = 0  # no date of its own: its command's date, else when it was recorded (bounded)
DATED_KIND = 1  # its own `date` (or the date a correction gave it)
CORRECTION = 2  # in effect as soon as known; `target` set when it re-dates an event
FIXED_CLOCK = 3  # an engine event at the instant in it (`clock_us`)
RENEWAL_CLOCK = 4  # an engine event at `base_us` minus the policy's renewal notice
DORMANCY_CLOCK = 5  # an engine event at `base_us` plus the policy's dormancy period

KINDS = (OTHER, DATED_KIND, CORRECTION, FIXED_CLOCK, RENEWAL_CLOCK, DORMANCY_CLOCK)

#: The policy-timed kinds, by event type.
POLICY_KINDS = {"renewal_due": RENEWAL_CLOCK, "became_dormant": DORMANCY_CLOCK}

# An EffectiveRow (store/time_index.py): `day_us` is the event's own day (a dated event)
# or the day a date correction sets (NULL: none); `clock_us` an engine clock as it stood
# when the event was recorded, i.e. under the policy the history before it set. The
# recorder adds `chained`: whether every earlier version has its row too (computed as the
# row is inserted), so one lookup tells whether versions 1..n all have theirs: a store
# written before the index, or partly by an older release, has gaps.

#: The same row as read back, without the aggregate id.
IndexedEvent = tuple[int, int, int | None, int | None, int | None, int | None, int, str]

COLUMNS = "originator_version, kind, day_us, target, clock_us, base_us, recorded_us, request_id"


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else recorded_micros(moment)


def effective_row(
    originator_id: UUID,
    version: int,
    event: AnyEvent,
    recorded: datetime,
    request_id: str,
    policy: Policy | None,
    first: int,
) -> EffectiveRow:
    """One event's row; `policy` is the one in force just before it, in recorded order;
    `first` the version of its command's first event (the recorder's gap check)."""
    day = None
    target = None
    clock = None
    base = None
    if event.type in DATED:
        kind = DATED_KIND
        found = own_day(event)
        day = None if found is None else recorded_micros(start_of(found))
    elif event.type == "corrected":
        kind = CORRECTION
        fix = corrected_day(event)
        if fix is not None:
            target = fix[0]
            day = None if fix[1] is None else recorded_micros(start_of(fix[1]))
    elif event.type in FIXED_CLOCKS:
        kind = FIXED_CLOCK
        clock = _micros(clock_base(event))
    elif event.type in POLICY_CLOCKS:
        kind = POLICY_KINDS[event.type]
        base = _micros(clock_base(event))
        clock = _micros(engine_clock(event, policy))
    else:
        kind = OTHER
    return (
        originator_id,
        version,
        kind,
        day,
        target,
        clock,
        base,
        recorded_micros(recorded),
        request_id,
        first,
    )
