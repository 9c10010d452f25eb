"""answer_invitation: the invited side accepts or declines an open invitation, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.errors import IllegalEvent
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import TALKING
from domain.state import PartnershipState, with_invitation
from domain.values import LongText, Token


class AnswerInvitation(Command):
    """The invited side accepts or declines an invitation."""

    name: ClassVar[str] = "answer_invitation"

    invitation_id: Token
    accepted: bool
    note: LongText | None = None


class InvitationAnswered(Event):
    type: Literal["invitation_answered"] = "invitation_answered"
    invitation_id: str
    accepted: bool
    note: str | None = None

    def summary(self) -> str:
        return f"{self.invitation_id} {'accepted' if self.accepted else 'declined'}"


@command(AnswerInvitation, TALKING)
def answer_invitation(
    state: PartnershipState, cmd: AnswerInvitation, now: datetime
) -> EventsOrRejection:
    invitation = state.invitation(cmd.invitation_id)
    if invitation is None and _extended(state, cmd.invitation_id):
        # Answered long ago: the state keeps only the latest answered invitations.
        return Rejection(f"invitation {cmd.invitation_id} was already answered")
    if invitation is None:
        known = ", ".join(i.invitation_id for i in state.invitations) or "none"
        return Rejection(f"unknown invitation_id {cmd.invitation_id!r} (known: {known})")
    if invitation.accepted is not None:
        answer = "accepted" if invitation.accepted else "declined"
        return Rejection(f"invitation {cmd.invitation_id} was already {answer}")
    return [
        InvitationAnswered(
            at=now, invitation_id=cmd.invitation_id, accepted=cmd.accepted, note=cmd.note
        )
    ]


def _extended(state: PartnershipState, invitation_id: str) -> bool:
    """Whether `invitation_id` names one of the invitations extended (inv-1..inv-N)."""
    number = invitation_id.removeprefix("inv-")
    return number.isdigit() and 1 <= int(number) <= state.invitation_count


@evolves(InvitationAnswered, TALKING)
def invitation_answered(
    state: PartnershipState, event: InvitationAnswered, version: int
) -> dict[str, Any]:
    found = state.invitation(event.invitation_id)
    if found is None or found.accepted is not None:
        raise IllegalEvent(f"answer to unknown or answered {event.invitation_id}")
    answered = found.model_copy(update={"accepted": event.accepted, "note": event.note})
    return {"invitations": with_invitation(state.invitations, answered, state.keeps_all)}
