"""note_talks_deadline (engine): the policy's talks deadline passed without a signature."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import BEFORE_SIGNING
from domain.state import PartnershipState


class NoteTalksDeadline(Command):
    name: ClassVar[str] = "note_talks_deadline"


class TalksDeadlinePassed(Event):
    type: Literal["talks_deadline_passed"] = "talks_deadline_passed"
    deadline: datetime

    def summary(self) -> str:
        return f"talks deadline {self.deadline:%Y-%m-%d %H:%M:%S} UTC passed without a signature"


@command(NoteTalksDeadline, BEFORE_SIGNING, engine=True)
def note_talks_deadline(
    state: PartnershipState, cmd: NoteTalksDeadline, now: datetime
) -> EventsOrRejection:
    deadline = state.talks_deadline_at()
    if deadline is None or state.talks_deadline_noted:
        return Rejection("no talks deadline pending")
    if now < deadline:
        return Rejection(f"the talks deadline {deadline.isoformat()} has not passed")
    return [TalksDeadlinePassed(at=now, deadline=deadline)]


@evolves(TalksDeadlinePassed, BEFORE_SIGNING)
def talks_deadline_passed(
    state: PartnershipState, event: TalksDeadlinePassed, version: int
) -> dict[str, Any]:
    return {"talks_deadline_noted": True}
