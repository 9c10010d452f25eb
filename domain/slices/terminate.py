"""terminate: an active or dormant partnership ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, command, evolves
from domain.stages import ACTIVE_STAGES
from domain.state import PartnershipState
from domain.values import Person, RequiredText, Stage


class Terminate(Command):
    """End an active or dormant partnership."""

    name: ClassVar[str] = "terminate"

    by: Person | None = None
    reason: RequiredText


class Terminated(Event):
    type: Literal["terminated"] = "terminated"
    by: Person | None = None
    reason: str

    def summary(self) -> str:
        return f"terminated: {self.reason}"


@command(Terminate, ACTIVE_STAGES)
def terminate(state: PartnershipState, cmd: Terminate, now: datetime) -> EventsOrRejection:
    return [Terminated(at=now, by=cmd.by, reason=cmd.reason)]


@evolves(Terminated, ACTIVE_STAGES, leads_to=Stage.TERMINATED)
def terminated(state: PartnershipState, event: Terminated, version: int) -> dict[str, Any]:
    return {"closing_reason": event.reason}
