"""What one event says, on its own, about when it took effect.

Shared by the full fold in effective time (audit/effective.py) and by the store's
effective index (store/effective_index.py), which keeps these facts per event beside the
log: both must read an event the same way, or the index would answer otherwise than the
fold it stands in for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from domain.events import AnyEvent
from domain.slices.correct import Corrected
from domain.values import Policy

#: Events whose `date` field is the day they took effect (where one is given). An
#: invitation's `date` is the day of the event it invites to, not of the invitation.
DATED = frozenset(
    {
        "proposed",
        "talks_opened",
        "meeting_recorded",
        "memorandum_drafted",
        "approval_recorded",
        "memorandum_signed",
        "exchange_recorded",
        "renewed",
        "upgraded",
        "withdrawn",
        "terminated",
    }
)

#: Engine events whose clock is in the event itself (the deadline, the term's end).
FIXED_CLOCKS = frozenset({"talks_deadline_passed", "expired"})

#: Engine events whose clock also needs the policy in force when they are folded.
POLICY_CLOCKS = frozenset({"renewal_due", "became_dormant"})


def start_of(day: date) -> datetime:
    """A day as the instant it began (UTC): an event of that day is in effect on it."""
    return datetime.combine(day, time(), UTC)


def own_day(event: AnyEvent) -> date | None:
    """The day a dated event names as its own (before any correction), else None."""
    if event.type not in DATED:
        return None
    day = getattr(event, "date", None)
    return day if isinstance(day, date) else None


def corrected_day(event: AnyEvent) -> tuple[int, date | None] | None:
    """(target version, corrected day) if the event corrects another's `date`, else None."""
    if not isinstance(event, Corrected) or "date" not in event.correction:
        return None
    value = event.correction["date"]
    return event.target_version, date.fromisoformat(value) if value else None


def clock_base(event: AnyEvent) -> datetime | None:
    """The instant in an engine event its clock counts from (or is, for a fixed one)."""
    if event.type == "talks_deadline_passed":
        return event.deadline
    if event.type in ("expired", "renewal_due"):
        return event.expires_at
    if event.type == "became_dormant":
        return event.idle_since
    return None


def engine_clock(event: AnyEvent, policy: Policy | None) -> datetime | None:
    """When an engine event's clock ran out, from the event and the policy in force."""
    base = clock_base(event)
    if base is None or event.type in FIXED_CLOCKS:
        return base
    return policy_clock(event.type, base, policy)


def policy_clock(kind: str, base: datetime, policy: Policy | None) -> datetime | None:
    """A policy-timed engine event's clock: the renewal notice before the term's end, the
    dormancy period after the last exchange; None while the policy has no such timer."""
    if policy is None:
        return None
    if kind == "renewal_due" and policy.renewal_notice:
        return base - policy.renewal_notice
    if kind == "became_dormant" and policy.dormant_after:
        return base + policy.dormant_after
    return None
