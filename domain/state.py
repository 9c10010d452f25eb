"""A partnership's current state (what `evolve` builds) and the public `status` view of it."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.clock import effective_instant, start_of
from domain.values import (
    Decision,
    ExchangeKind,
    FieldOfCooperation,
    Party,
    Person,
    Policy,
    RequiredApproval,
    Side,
    SidedPerson,
    Stage,
    Tier,
)

#: status.rejected keeps the latest signals that were not applied; the store keeps all.
MAX_REJECTED_IN_STATE = 50


class Record(BaseModel):
    """An entity inside the state; `version` is the event that created it (for `correct`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int


def carried_over(event: BaseModel, *leave: str) -> dict[str, Any]:
    """An event's fields for the record it becomes, as the (already valid) objects they are:
    no dump to dicts and no second validation of nested models (the fold's main cost)."""
    names = _RECORD_FIELDS.get((type(event), leave))
    if names is None:
        skip = {"type", "at", *leave}
        names = tuple(name for name in type(event).model_fields if name not in skip)
        _RECORD_FIELDS[(type(event), leave)] = names
    return {name: getattr(event, name) for name in names}


#: (event class, fields left out) -> the field names a record takes over, computed once.
_RECORD_FIELDS: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


class MeetingRecord(Record):
    date: Day
    place: str
    delegation: list[SidedPerson]
    counterparts: list[Person] = []
    topics: list[str] = []
    outcome: str | None = None


class DraftRecord(Record):
    draft_version: int
    title: str
    languages: list[str]
    text_sha256: str
    fields: list[FieldOfCooperation]
    date: Day | None = None


class ApprovalRecord(Record):
    side: Side
    authority: str
    decision: Decision
    required: bool
    reference: str | None = None
    date: Day | None = None


class SigningRecord(Record):
    date: Day
    place: str
    draft_version: int
    signatories: list[SidedPerson]


class ExchangeRecord(Record):
    date: Day
    field: FieldOfCooperation
    kind: ExchangeKind
    title: str
    participants: list[Person] = []
    outcome: str | None = None


class InvitationRecord(Record):
    invitation_id: str
    event: str
    date: Day | None = None
    from_side: Side
    to_side: Side
    accepted: bool | None = None
    note: str | None = None


class RejectedCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    command: str
    reason: str
    at: datetime
    request_id: str | None = None


class CorrectionRecord(Record):
    target_version: int
    target_type: str
    reason: str
    correction: dict[str, Any]


class PartnershipState(BaseModel):
    """Everything the rules need, rebuilt by folding events with `evolve`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partnership_id: str
    stage: Stage
    tier: Tier
    initiator: Party
    partner: Party
    proposed_by: SidedPerson
    fields: list[FieldOfCooperation]
    rationale: str | None = None
    required_approvals: list[RequiredApproval] = []
    policy: Policy = Policy()
    proposed_at: datetime
    #: The effective dates of the first steps, where the commands gave them.
    proposed_on: Day | None = None
    talks_opened_on: Day | None = None
    #: The business clock (domain/clock.py): timers run from effective dates. False for
    #: partnerships proposed before it, whose timers run from recording times.
    effective_clock: bool = False
    proposed_version: int
    stage_since: datetime
    meetings: list[MeetingRecord] = []
    drafts: list[DraftRecord] = []
    approvals: list[ApprovalRecord] = []
    signing: SigningRecord | None = None
    signed_at: datetime | None = None
    exchanges: list[ExchangeRecord] = []
    last_exchange_at: datetime | None = None
    invitations: list[InvitationRecord] = []
    term_started_at: datetime | None = None
    expires_at: datetime | None = None
    talks_deadline_noted: bool = False
    renewal_due_noted: bool = False
    rejected: list[RejectedCommand] = []
    corrections: list[CorrectionRecord] = []
    closing_reason: str | None = None
    version: int = 0

    def approval_for(self, side: Side, authority: str) -> ApprovalRecord | None:
        """The latest recorded decision of one authority."""
        key = authority.casefold()
        for approval in reversed(self.approvals):
            if approval.side == side and approval.authority.casefold() == key:
                return approval
        return None

    def missing_approvals(self) -> list[RequiredApproval]:
        return [
            required
            for required in self.required_approvals
            if (found := self.approval_for(required.side, required.authority)) is None
            or found.decision != Decision.GRANTED
        ]

    def invitation(self, invitation_id: str) -> InvitationRecord | None:
        for invitation in self.invitations:
            if invitation.invitation_id == invitation_id:
                return invitation
        return None

    def idle_since(self) -> datetime | None:
        """When the dormancy clock started: the last exchange, else the signing (by their
        dates under the effective clock, by when they were recorded before it)."""
        if not self.effective_clock:
            return self.last_exchange_at or self.signed_at
        days = [exchange.date for exchange in self.exchanges]
        days += [self.signing.date] if self.signing is not None else []
        if not days:
            return None
        recorded = self.last_exchange_at or self.signed_at
        return effective_instant(max(days), recorded) if recorded else start_of(max(days))

    def talks_deadline_at(self) -> datetime | None:
        if self.policy.talks_deadline is None:
            return None
        if self.effective_clock and self.proposed_on is not None:
            began = effective_instant(self.proposed_on, self.proposed_at)
            return began + self.policy.talks_deadline
        return self.proposed_at + self.policy.talks_deadline


class CommandOutcome(BaseModel):
    """What one command did: returned inside `status` by every Update."""

    command: str
    request_id: str
    version: int = Field(description="The aggregate version after this command")
    duplicate: bool = Field(
        default=False, description="True when this request_id had already been applied"
    )
    draft_version: int | None = None
    invitation_id: str | None = None


class Status(BaseModel):
    """The public `status` object (query result and Update result)."""

    partnership_id: str
    stage: Stage
    stage_since: datetime
    tier: Tier
    initiator: Party
    partner: Party
    proposed_by: SidedPerson
    proposed_on: Day | None = None
    talks_opened_on: Day | None = None
    fields: list[FieldOfCooperation]
    rationale: str | None
    required_approvals: list[RequiredApproval]
    missing_approvals: list[RequiredApproval]
    policy: Policy
    meetings: list[MeetingRecord]
    drafts: list[DraftRecord]
    approvals: list[ApprovalRecord]
    signed_on: Day | None
    signing: SigningRecord | None
    exchanges: dict[str, int]
    exchange_count: int
    last_exchange_on: Day | None
    invitations: list[InvitationRecord]
    open_invitations: list[InvitationRecord]
    expires_on: datetime | None
    talks_deadline: datetime | None
    corrections: list[CorrectionRecord]
    rejected: list[RejectedCommand]
    closing_reason: str | None
    version: int
    outcome: CommandOutcome | None = None


def to_status(state: PartnershipState, outcome: CommandOutcome | None = None) -> Status:
    """Render the public view; counts instead of long lists where the contract says so."""
    by_field: dict[str, int] = {}
    for exchange in state.exchanges:
        by_field[exchange.field.value] = by_field.get(exchange.field.value, 0) + 1
    last_exchange = max((e.date for e in state.exchanges), default=None)
    return Status(
        partnership_id=state.partnership_id,
        stage=state.stage,
        stage_since=state.stage_since,
        tier=state.tier,
        initiator=state.initiator,
        partner=state.partner,
        proposed_by=state.proposed_by,
        proposed_on=state.proposed_on,
        talks_opened_on=state.talks_opened_on,
        fields=state.fields,
        rationale=state.rationale,
        required_approvals=state.required_approvals,
        missing_approvals=state.missing_approvals(),
        policy=state.policy,
        meetings=state.meetings,
        drafts=state.drafts,
        approvals=state.approvals,
        signed_on=state.signing.date if state.signing else None,
        signing=state.signing,
        exchanges=by_field,
        exchange_count=len(state.exchanges),
        last_exchange_on=last_exchange,
        invitations=state.invitations,
        open_invitations=[i for i in state.invitations if i.accepted is None],
        expires_on=state.expires_at,
        talks_deadline=state.talks_deadline_at(),
        corrections=state.corrections,
        rejected=state.rejected,
        closing_reason=state.closing_reason,
        version=state.version,
        outcome=outcome,
    )
