"""When each stored event took effect, and a partnership's state as in effect on a date.

Every event has two times. Its *recorded* time is when Amity stored it (the store's
timestamp, the time index). Its *effective* time is when it happened in the world: the
signing date, the meeting's, the exchange's, the approval's, the day the proposal was made
or talks opened, a renewal's start. An event without a date of its own takes the effective
time of the dated event of the same command (a reactivation takes its exchange's); else it
took effect no later than it was recorded, and no later than any dated event recorded after
it (the rules had it come first: a proposal recorded before a signing dated 2017 was made by
then). The engine's events take effect at the instant their clock ran out (the term's
end, the renewal notice, the talks deadline, the end of the dormancy period), whenever the
engine got to record them.

A correction takes effect as soon as it is known: it says what was true all along. A
correction of a date therefore moves the corrected event in effective time, and an auditor
who asks what the register knew before the correction (`--known-at`) sees the old date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.effective import DATED, corrected_day, engine_clock, own_day, start_of
from domain.errors import IllegalEvent
from domain.events import AnyEvent
from domain.state import PartnershipState

__all__ = ["DATED", "corrected_dates", "in_effect", "start_of"]


def corrected_dates(events: Sequence[PartnershipEvent]) -> dict[int, date | None]:
    """The latest corrected `date` of each event a correction re-dated (by version)."""
    found: dict[int, date | None] = {}
    for stored in events:
        fix = corrected_day(stored.event)
        if fix is not None:
            found[fix[0]] = fix[1]
    return found


def _own_date(stored: PartnershipEvent, corrected: dict[int, date | None]) -> datetime | None:
    event = stored.event
    if event.type not in DATED:
        return None
    version = stored.originator_version
    day = corrected[version] if version in corrected else own_day(event)
    return start_of(day) if isinstance(day, date) else None


def _clock(event: AnyEvent, state: PartnershipState | None) -> datetime | None:
    """When an engine event's clock ran out, from what the event and the state hold."""
    return engine_clock(event, state.policy if state is not None else None)


def in_effect(
    events: Sequence[PartnershipEvent], at: datetime, folded: list[int] | None = None
) -> PartnershipState | None:
    """The state folded from the events in effect at `at`, in recorded order. An event in
    effect that builds on one that is not yet (an exchange after a later signing) waits
    for it: the rules refuse it in that state, so it is left out. `folded`, if given,
    receives the versions folded (what the effective index's answer is checked by)."""
    corrected = corrected_dates(events)
    by_command: dict[str, datetime] = {}
    for stored in events:
        own = _own_date(stored, corrected)
        if own is not None:
            by_command.setdefault(stored.request_id, own)
    # the earliest own date among the events recorded after each one
    later: list[datetime | None] = [None] * len(events)
    earliest: datetime | None = None
    for index in range(len(events) - 1, -1, -1):
        later[index] = earliest
        own = _own_date(events[index], corrected)
        if own is not None and (earliest is None or own < earliest):
            earliest = own
    state: PartnershipState | None = None
    for index, stored in enumerate(events):
        event = stored.event
        effective: datetime | None
        if event.type == "corrected":
            effective = None  # true all along, once known
        else:
            effective = _own_date(stored, corrected) or _clock(event, state)
            if effective is None:
                effective = by_command.get(stored.request_id)
            if effective is None:
                bound = later[index]
                effective = min(stored.timestamp, bound) if bound else stored.timestamp
        if effective is not None and effective > at:
            continue
        try:
            state = evolve(state, event, stored.originator_version)
        except IllegalEvent:
            continue
        if folded is not None:
            folded.append(stored.originator_version)
    return state
