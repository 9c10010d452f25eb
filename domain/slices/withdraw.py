"""withdraw: the proposal is withdrawn before signing; the partnership ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, command, evolves
from domain.stages import BEFORE_SIGNING
from domain.state import PartnershipState
from domain.values import Person, RequiredText, Stage


class Withdraw(Command):
    """Withdraw the proposal before signing."""

    name: ClassVar[str] = "withdraw"

    by: Person | None = None
    reason: RequiredText


class Withdrawn(Event):
    type: Literal["withdrawn"] = "withdrawn"
    by: Person | None = None
    reason: str

    def summary(self) -> str:
        return f"withdrawn: {self.reason}"


@command(Withdraw, BEFORE_SIGNING)
def withdraw(state: PartnershipState, cmd: Withdraw, now: datetime) -> EventsOrRejection:
    return [Withdrawn(at=now, by=cmd.by, reason=cmd.reason)]


@evolves(Withdrawn, BEFORE_SIGNING, leads_to=Stage.WITHDRAWN)
def withdrawn(state: PartnershipState, event: Withdrawn, version: int) -> dict[str, Any]:
    return {"closing_reason": event.reason}
