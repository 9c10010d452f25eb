"""expire (engine): the term ended without renewal; the partnership ends."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import ACTIVE_STAGES
from domain.state import PartnershipState
from domain.values import Stage


class Expire(Command):
    name: ClassVar[str] = "expire"


class Expired(Event):
    type: Literal["expired"] = "expired"
    expires_at: datetime

    def summary(self) -> str:
        return "expired: the term ended without renewal"


@command(Expire, ACTIVE_STAGES, engine=True)
def expire(state: PartnershipState, cmd: Expire, now: datetime) -> EventsOrRejection:
    if state.expires_at is None or now < state.expires_at:
        return Rejection("the term has not ended")
    return [Expired(at=now, expires_at=state.expires_at)]


@evolves(Expired, ACTIVE_STAGES, leads_to=Stage.EXPIRED)
def expired(state: PartnershipState, event: Expired, version: int) -> dict[str, Any]:
    return {"closing_reason": "the term ended without renewal"}
