"""extend_invitation: one side invites the other to an event; the invitation gets an id."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import field_validator, model_validator

from domain.errors import IllegalEvent
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import TALKING
from domain.state import (
    MAX_OPEN_INVITATIONS,
    InvitationRecord,
    PartnershipState,
    record_of,
    with_invitation,
)
from domain.values import EventDate, RequiredText, Side, check_date


class ExtendInvitation(Command):
    """One side invites the other to an event."""

    name: ClassVar[str] = "extend_invitation"

    event: RequiredText
    date: EventDate | None = None
    from_side: Side
    to_side: Side

    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _between_sides(self) -> ExtendInvitation:
        if self.from_side == self.to_side:
            raise ValueError("from_side and to_side must differ")
        return self


class InvitationExtended(Event):
    type: Literal["invitation_extended"] = "invitation_extended"
    invitation_id: str
    event: str
    date: Day | None = None
    from_side: Side
    to_side: Side

    def summary(self) -> str:
        return (
            f"{self.invitation_id}: {self.from_side.value} invites {self.to_side.value}"
            f" to {self.event}"
        )


@command(ExtendInvitation, TALKING)
def extend_invitation(
    state: PartnershipState, cmd: ExtendInvitation, now: datetime
) -> EventsOrRejection:
    if not state.keeps_all and len(state.open_invitations()) >= MAX_OPEN_INVITATIONS:
        return Rejection(f"{MAX_OPEN_INVITATIONS} invitations are open already: answer some first")
    return [
        InvitationExtended(
            at=now,
            invitation_id=f"inv-{state.invitation_count + 1}",
            event=cmd.event,
            date=cmd.date,
            from_side=cmd.from_side,
            to_side=cmd.to_side,
        )
    ]


@evolves(InvitationExtended, TALKING)
def invitation_extended(
    state: PartnershipState, event: InvitationExtended, version: int
) -> dict[str, Any]:
    if state.invitation(event.invitation_id) is not None:
        raise IllegalEvent(f"invitation {event.invitation_id} extended twice")
    invitation = record_of(InvitationRecord, event, version)
    return {
        "invitations": with_invitation(state.invitations, invitation, state.keeps_all),
        "invitation_count": state.invitation_count + 1,
    }
