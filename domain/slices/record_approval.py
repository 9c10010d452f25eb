"""record_approval: an authority's decision; a required approval denied rejects the proposal."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import field_validator

from domain.clock import future
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import BEFORE_SIGNING
from domain.state import ApprovalRecord, PartnershipState, record_of, with_approval
from domain.values import Decision, EventDate, RequiredText, ShortText, Side, Stage, check_date


class RecordApproval(Command):
    """An authority's decision on the partnership; a required one denied ends it."""

    name: ClassVar[str] = "record_approval"

    side: Side
    authority: RequiredText
    decision: Decision
    reference: ShortText | None = None
    date: EventDate | None = None

    _date = field_validator("date")(check_date)


class ApprovalRecorded(Event):
    type: Literal["approval_recorded"] = "approval_recorded"
    side: Side
    authority: str
    decision: Decision
    required: bool
    reference: str | None = None
    date: Day | None = None

    def summary(self) -> str:
        required = "required " if self.required else ""
        return f"{required}approval {self.decision.value} by {self.authority} ({self.side.value})"


class ProposalRejected(Event):
    type: Literal["proposal_rejected"] = "proposal_rejected"
    side: Side
    authority: str
    reason: str

    def summary(self) -> str:
        return f"rejected: {self.reason}"


@command(RecordApproval, BEFORE_SIGNING)
def record_approval(
    state: PartnershipState, cmd: RecordApproval, now: datetime
) -> EventsOrRejection:
    if state.effective_clock and (refused := future("the approval date", cmd.date, now)):
        return Rejection(refused)
    required = any(
        r.side == cmd.side and r.authority.casefold() == cmd.authority.casefold()
        for r in state.required_approvals
    )
    recorded: list[Event] = [
        ApprovalRecorded(
            at=now,
            side=cmd.side,
            authority=cmd.authority,
            decision=cmd.decision,
            required=required,
            reference=cmd.reference,
            date=cmd.date,
        )
    ]
    if required and cmd.decision == Decision.DENIED:
        recorded.append(
            ProposalRejected(
                at=now,
                side=cmd.side,
                authority=cmd.authority,
                reason=f"required approval denied by {cmd.authority} ({cmd.side.value})",
            )
        )
    return recorded


@evolves(ApprovalRecorded, BEFORE_SIGNING)
def approval_recorded(
    state: PartnershipState, event: ApprovalRecorded, version: int
) -> dict[str, Any]:
    approval = record_of(ApprovalRecord, event, version)
    approvals = with_approval(state.required_approvals, state.approvals, approval, state.keeps_all)
    return {"approvals": approvals, "approval_count": state.approval_count + 1}


@evolves(ProposalRejected, BEFORE_SIGNING, leads_to=Stage.REJECTED)
def proposal_rejected(
    state: PartnershipState, event: ProposalRejected, version: int
) -> dict[str, Any]:
    return {"closing_reason": event.reason}
