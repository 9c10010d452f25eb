"""mark_dormant (engine): no exchange for the policy's dormancy period; the partnership sleeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.state import PartnershipState
from domain.values import Stage


class MarkDormant(Command):
    name: ClassVar[str] = "mark_dormant"


class BecameDormant(Event):
    type: Literal["became_dormant"] = "became_dormant"
    idle_since: datetime

    def summary(self) -> str:
        return f"dormant: no exchange since {self.idle_since:%Y-%m-%d %H:%M:%S} UTC"


@command(MarkDormant, frozenset({Stage.ACTIVE}), engine=True)
def mark_dormant(state: PartnershipState, cmd: MarkDormant, now: datetime) -> EventsOrRejection:
    idle_since = state.idle_since()
    after = state.policy.dormant_after
    if after is None or idle_since is None:
        return Rejection("no dormancy policy")
    if now - idle_since < after:
        return Rejection("an exchange was recorded recently")
    return [BecameDormant(at=now, idle_since=idle_since)]


@evolves(BecameDormant, frozenset({Stage.ACTIVE}), leads_to=Stage.DORMANT)
def became_dormant(state: PartnershipState, event: BecameDormant, version: int) -> dict[str, Any]:
    return {}  # the stage it leads to is all that changes
