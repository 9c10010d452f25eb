"""upgrade: an active partnership moves to a higher tier, never a lower one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.errors import IllegalEvent
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.state import PartnershipState
from domain.values import ShortText, Stage, Tier


class Upgrade(Command):
    """Raise the tier, e.g. friendly relations to sister cities."""

    name: ClassVar[str] = "upgrade"

    to_tier: Tier
    reference: ShortText | None = None


class Upgraded(Event):
    type: Literal["upgraded"] = "upgraded"
    from_tier: Tier
    to_tier: Tier
    reference: str | None = None

    def summary(self) -> str:
        return f"upgraded from {self.from_tier.label} to {self.to_tier.label}"


@command(Upgrade, frozenset({Stage.ACTIVE}))
def upgrade(state: PartnershipState, cmd: Upgrade, now: datetime) -> EventsOrRejection:
    if cmd.to_tier.rank <= state.tier.rank:
        return Rejection(
            f"to_tier {cmd.to_tier.value} is not above the current tier {state.tier.value}"
        )
    return [Upgraded(at=now, from_tier=state.tier, to_tier=cmd.to_tier, reference=cmd.reference)]


@evolves(Upgraded, frozenset({Stage.ACTIVE}))
def upgraded(state: PartnershipState, event: Upgraded, version: int) -> dict[str, Any]:
    if event.from_tier != state.tier or event.to_tier.rank <= state.tier.rank:
        raise IllegalEvent(
            f"upgrade from {event.from_tier.value} to {event.to_tier.value}"
            f" while the tier is {state.tier.value}"
        )
    return {"tier": event.to_tier}
