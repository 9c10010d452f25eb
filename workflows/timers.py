"""Which policy timer is due next: talks deadline, dormancy, renewal notice or term end.

Pure, so the workflow can race it against incoming commands and tests can check it alone.
Every timer is computed from the state, so a `correct` or `renew` that changes the policy
or the term moves the running timer at the next turn of the workflow's loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.messages import Command
from domain.slices.expire import Expire
from domain.slices.mark_dormant import MarkDormant
from domain.slices.note_renewal_due import NoteRenewalDue
from domain.slices.note_talks_deadline import NoteTalksDeadline
from domain.state import PartnershipState
from domain.values import Stage


@dataclass(frozen=True)
class Timer:
    at: datetime
    wait: timedelta
    command: Command


def _candidates(state: PartnershipState) -> list[tuple[datetime, Command]]:
    found: list[tuple[datetime, Command]] = []
    deadline = state.talks_deadline_at()
    talking = state.stage in (Stage.PROPOSED, Stage.IN_TALKS)
    if talking and deadline is not None and not state.talks_deadline_noted:
        found.append((deadline, NoteTalksDeadline()))
    if state.stage == Stage.ACTIVE:
        idle_since = state.idle_since()
        if state.policy.dormant_after is not None and idle_since is not None:
            found.append((idle_since + state.policy.dormant_after, MarkDormant()))
    if state.stage in (Stage.ACTIVE, Stage.DORMANT) and state.expires_at is not None:
        notice = state.policy.renewal_notice
        if notice is not None and not state.renewal_due_noted:
            found.append((state.expires_at - notice, NoteRenewalDue()))
        found.append((state.expires_at, Expire()))
    return found


def due_timer(state: PartnershipState, now: datetime) -> Timer | None:
    """The earliest pending timer (its wait is zero when it is already due)."""
    candidates = _candidates(state)
    if not candidates:
        return None
    # Expiry wins a tie with the renewal notice: a partnership past its term is over.
    at, command = min(candidates, key=lambda item: (item[0], item[1].name != "expire"))
    return Timer(at=at, wait=max(at - now, timedelta(0)), command=command)
