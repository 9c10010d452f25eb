"""note_renewal_due (engine): the term ends within the policy's renewal notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import ACTIVE_STAGES
from domain.state import PartnershipState


class NoteRenewalDue(Command):
    name: ClassVar[str] = "note_renewal_due"


class RenewalDue(Event):
    type: Literal["renewal_due"] = "renewal_due"
    expires_at: datetime

    def summary(self) -> str:
        return f"renewal due: the term ends {self.expires_at:%Y-%m-%d %H:%M:%S} UTC"


@command(NoteRenewalDue, ACTIVE_STAGES, engine=True)
def note_renewal_due(
    state: PartnershipState, cmd: NoteRenewalDue, now: datetime
) -> EventsOrRejection:
    notice = state.policy.renewal_notice
    if state.expires_at is None or notice is None or state.renewal_due_noted:
        return Rejection("no renewal reminder pending")
    if now < state.expires_at - notice:
        return Rejection("the renewal notice period has not started")
    return [RenewalDue(at=now, expires_at=state.expires_at)]


@evolves(RenewalDue, ACTIVE_STAGES)
def renewal_due(state: PartnershipState, event: RenewalDue, version: int) -> dict[str, Any]:
    return {"renewal_due_noted": True}
