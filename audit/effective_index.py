"""The state in effect on a date through the store's effective index: exactly what the full
fold (audit/effective.py `in_effect`) gives, without decoding the whole history.

`in_effect` folds, in recorded order, the events whose effective instant is at or before
the date. Every instant follows from the events' own facts (their dates, the corrections of
those dates, their commands, when they were recorded), which the effective index holds as
integers (store/effective_index.py), except the clock of a policy-timed engine event (a
renewal notice, dormancy), which also needs the policy of the state folded so far.

Usually effective order follows recorded order, so the events in effect are versions
1..v, maybe with a few later ones: then the answer is the state at version v (a snapshot
and a short fold, as `as-of --version`) with those few folded on top by the same rule.
That equals the full fold: every event of 1..v is in effect, so the full fold folds all of
them in order; the store checked each against the state of the ones before it when it was
appended, so none is refused; and the state they fold to is the state the store had when it
wrote each one's row, so a policy clock recorded in the row is the one the full fold would
compute. After v the fold differs from the recorded history, so a policy clock is
recomputed from the state folded there. Where the index cannot answer (an encrypted store,
events written without their rows), `Unindexed` says why and the caller folds everything.

Only the events whose instant is not simply their own date (no date, a correction, an
engine clock) come back as rows, with the dated events of their commands; for the others,
which are most, SQL finds the first after the date and those by it after a version
(store/effective_reads.py), so the cost follows those few, not the length of the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from eventsourcing.persistence import PersistenceError

from audit.effective import in_effect
from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.state import PartnershipState
from store.application import PartnershipStore
from store.effective_index import (
    CORRECTION,
    DATED_KIND,
    DORMANCY_CLOCK,
    FIXED_CLOCK,
    RENEWAL_CLOCK,
    IndexedEvent,
)
from store.effective_reads import EffectiveReads
from store.time_index import recorded_micros

logger = logging.getLogger(__name__)

#: Beyond this many separate runs of later events to read, one read of all of them is
#: cheaper than a query per run.
MAX_RUNS = 64

#: Beyond this many re-dated events, their versions are too many to leave out in SQL.
MAX_CORRECTED = 500
POLICY_KINDS = (RENEWAL_CLOCK, DORMANCY_CLOCK)
CLOCK_KINDS = (FIXED_CLOCK, RENEWAL_CLOCK, DORMANCY_CLOCK)
UNIT = timedelta(microseconds=1)


class Unindexed(Exception):  # noqa: N818 - names the situation, not a failure
    """The effective index cannot give this answer; the message says why."""


class Incomplete(Unindexed):
    """Some versions have no row (written before the index existed, or by an older
    release): the full fold's events can fill them in."""


def state_in_effect(
    store: PartnershipStore, partnership_id: str, at: datetime, last: int
) -> PartnershipState | None:
    """The state in effect at `at` from versions 1..`last`: through the effective index,
    else (an older or encrypted store) by folding all of them."""
    try:
        return fast_in_effect(store, partnership_id, at, last)
    except Unindexed as why:
        logger.debug("%s: the whole history is folded (%s)", partnership_id, why)
        fillable = isinstance(why, Incomplete)
    events = store.history(partnership_id, lte=last)
    found = in_effect(events, at)
    if fillable:
        _fill(store, partnership_id, events)
    return found


def _fill(store: PartnershipStore, partnership_id: str, events: list[PartnershipEvent]) -> None:
    """Backfill the index from the events just read, so the next as-of takes it. Only a
    cache of what the log says: a store this process may not write to answers as before."""
    try:
        store.index_effective(partnership_id, events)
    except PersistenceError as error:
        logger.warning("%s: effective index not filled in: %s", partnership_id, error)


def fast_in_effect(
    store: PartnershipStore, partnership_id: str, at: datetime, last: int
) -> PartnershipState | None:
    """`in_effect(store.history(partnership_id, lte=last), at)`, through the index."""
    reads = store.effective_reads(partnership_id, last)
    if reads is None:
        raise Unindexed("encrypted at rest: the store keeps no effective index")
    with reads:
        return _fold(store, partnership_id, reads, recorded_micros(at), last)


def _fold(
    store: PartnershipStore, partnership_id: str, reads: EffectiveReads, limit: int, last: int
) -> PartnershipState | None:
    if not reads.complete():
        raise Incomplete("versions without their effective-index row")
    rows = Rows(reads, limit)
    if len(rows.corrected) > MAX_CORRECTED:
        raise Unindexed(f"more than {MAX_CORRECTED:,} events re-dated")
    targets = sorted(rows.corrected)
    # the first event not in effect yet: a dated one (SQL finds it), or one of the rest
    first_out = reads.first_dated_after(limit, targets)
    prefix = last if first_out is None else first_out - 1
    for version in rows.evaluated:
        if version > prefix:
            break
        if not rows.in_effect(version):
            prefix = version - 1
            break
    dated: set[int] = set()
    later = [version for version in rows.evaluated if version > prefix]
    if prefix < last:
        dated = set(reads.dated_by_after(prefix, limit, targets))
        rows.last_dated_by()  # now, while the index is open: the fold below reads events
    reads.close()  # the events come through the store's other connections
    try:
        state = store.state(partnership_id, prefix) if prefix else None
    except IllegalEvent as error:  # a history the rules refuse in recorded order
        raise Unindexed(str(error)) from None
    if prefix == last:
        return state
    maybe = dated.union(v for v in later if rows.in_effect(v) or rows.policy_timed(v))
    read = _reader(store, partnership_id, sorted(maybe))
    for version in sorted(dated.union(later)):
        if version not in dated and not rows.in_effect(version, state, folded=True):
            continue
        try:
            state = evolve(state, read(version).event, version)
        except IllegalEvent:
            continue
    return state


class Rows:
    """The effective index's rows the fold decides one by one: those that are not simply
    dated (no date, a correction, an engine clock) and the re-dated ones; with the dated
    rows of their commands. Every other event is in effect exactly from its own date, which
    SQL compares with the date asked about (store/effective_reads.py)."""

    def __init__(self, reads: EffectiveReads, limit: int) -> None:
        self.reads = reads
        self.limit = limit
        self.rows: dict[int, IndexedEvent] = {row[0]: row for row in reads.special()}
        #: The latest corrected day of each re-dated version (None: its date was removed).
        self.corrected: dict[int, int | None] = {}
        for _version, kind, day, target, *_ in self.rows.values():
            if kind == CORRECTION and target is not None:
                self.corrected[target] = day  # the latest correction wins
        if self.corrected and len(self.corrected) <= MAX_CORRECTED:
            self._add(reads.versions(sorted(self.corrected)))
            if not self.rows.keys() >= self.corrected.keys():
                raise Unindexed("a re-dated version without its effective-index row")
        #: The versions decided one by one, in order.
        self.evaluated = sorted(self.rows)
        commands = [row[7] for row in self.rows.values() if row[1] != CORRECTION]
        self._add(reads.commands(commands))
        #: Each command's first own day (only commands of rows decided one by one).
        self.by_command: dict[str, int] = {}
        for _version, row in sorted(self.rows.items()):
            day = self.own(row)
            if day is not None:
                self.by_command.setdefault(row[7], day)
        self._last_dated_by: int | None = None

    def _add(self, rows: list[IndexedEvent]) -> None:
        for row in rows:
            self.rows.setdefault(row[0], row)

    def own(self, row: IndexedEvent) -> int | None:
        """A dated event's own day (as corrected), else None."""
        return self.corrected.get(row[0], row[2]) if row[1] == DATED_KIND else None

    def last_dated_by(self) -> int:
        """The last version whose own day (as corrected) is not after the date: an event
        recorded before it took effect by then at the latest (0: there is none)."""
        if self._last_dated_by is None:
            found = self.reads.last_dated_by(self.limit, sorted(self.corrected)) or 0
            for version, day in self.corrected.items():
                row = self.rows[version]
                if row[1] == DATED_KIND and day is not None and day <= self.limit:
                    found = max(found, version)
            self._last_dated_by = found
        return self._last_dated_by

    def policy_timed(self, version: int) -> bool:
        return self.rows[version][1] in POLICY_KINDS

    def in_effect(
        self, version: int, state: PartnershipState | None = None, *, folded: bool = False
    ) -> bool:
        """Whether the event is in effect at the date. `folded`: `state` is the state folded
        so far, which after the prefix is not the recorded history's: a policy clock then
        counts with its policy, not with the one in force when the event was recorded."""
        row = self.rows[version]
        kind, clock = row[1], row[4]
        if kind == CORRECTION:
            return True
        day = self.own(row)
        if day is not None:
            return day <= self.limit
        if folded and kind in POLICY_KINDS and row[5] is not None:
            clock = _policy_clock(kind, row[5], state)
        if kind in CLOCK_KINDS and clock is not None:
            return clock <= self.limit
        # no date, no clock: its command's date; else when it was recorded, unless an
        # event recorded after it took effect earlier (then by that event's date)
        found = self.by_command.get(row[7])
        if found is not None:
            return found <= self.limit
        return row[6] <= self.limit or version < self.last_dated_by()


def _policy_clock(kind: int, base: int, state: PartnershipState | None) -> int | None:
    """`domain.effective.policy_clock` in microseconds, under the state folded so far."""
    policy = state.policy if state is not None else None
    if policy is None:
        return None
    if kind == RENEWAL_CLOCK and policy.renewal_notice:
        return base - policy.renewal_notice // UNIT
    if kind == DORMANCY_CLOCK and policy.dormant_after:
        return base + policy.dormant_after // UNIT
    return None


def _reader(
    store: PartnershipStore, partnership_id: str, versions: list[int]
) -> Callable[[int], PartnershipEvent]:
    """Reads the later events the fold asks for, a whole run of consecutive `versions` per
    query on first use (or all of them in one query, if they are scattered)."""
    runs: list[tuple[int, int]] = []
    for version in versions:
        if runs and runs[-1][1] == version - 1:
            runs[-1] = (runs[-1][0], version)
        else:
            runs.append((version, version))
    if len(runs) > MAX_RUNS:
        runs = [(versions[0], versions[-1])]
    run_of: dict[int, tuple[int, int]] = {}
    index = 0
    for run in runs:
        while index < len(versions) and versions[index] <= run[1]:
            run_of[versions[index]] = run
            index += 1
    found: dict[int, PartnershipEvent] = {}

    def read(version: int) -> PartnershipEvent:
        if version not in found:
            first, last = run_of[version]
            for stored in store.history(partnership_id, gt=first - 1, lte=last):
                found[stored.originator_version] = stored
        return found[version]

    return read
