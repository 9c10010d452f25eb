"""What happened to a partnership: the facts the decider emits and the store keeps forever.

Events are past-tense, immutable and self-describing (`type`), so an auditor can read
the stored JSON without our code. `at` is the engine's time of the decision (the
workflow's deterministic clock); the store adds its own recording timestamp.
"""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from domain.values import (
    Decision,
    ExchangeKind,
    FieldOfCooperation,
    Model,
    Party,
    Person,
    Policy,
    RequiredApproval,
    Side,
    SidedPerson,
    Stage,
    Tier,
)


class Event(Model):
    type: str
    at: datetime


class Proposed(Event):
    type: Literal["proposed"] = "proposed"
    partnership_id: str
    initiator: Party
    partner: Party
    tier: Tier
    proposed_by: SidedPerson
    fields: list[FieldOfCooperation]
    rationale: str | None = None
    required_approvals: list[RequiredApproval] = []  # noqa: RUF012 - pydantic copies field defaults
    policy: Policy = Policy()


class TalksOpened(Event):
    type: Literal["talks_opened"] = "talks_opened"
    by: Person | None = None
    note: str | None = None


class MeetingRecorded(Event):
    type: Literal["meeting_recorded"] = "meeting_recorded"
    date: Day
    place: str
    delegation: list[SidedPerson]
    counterparts: list[Person] = []  # noqa: RUF012 - pydantic copies field defaults
    topics: list[str] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: str | None = None


class MemorandumDrafted(Event):
    type: Literal["memorandum_drafted"] = "memorandum_drafted"
    draft_version: int
    title: str
    languages: list[str]
    text_sha256: str
    text: str | None = None
    fields: list[FieldOfCooperation]


class ApprovalRecorded(Event):
    type: Literal["approval_recorded"] = "approval_recorded"
    side: Side
    authority: str
    decision: Decision
    required: bool
    reference: str | None = None
    date: Day | None = None


class ProposalRejected(Event):
    type: Literal["proposal_rejected"] = "proposal_rejected"
    side: Side
    authority: str
    reason: str


class MemorandumSigned(Event):
    type: Literal["memorandum_signed"] = "memorandum_signed"
    date: Day
    place: str
    draft_version: int
    signatories: list[SidedPerson]
    expires_at: datetime | None = None


class ExchangeRecorded(Event):
    type: Literal["exchange_recorded"] = "exchange_recorded"
    date: Day
    field: FieldOfCooperation
    kind: ExchangeKind
    title: str
    participants: list[Person] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: str | None = None


class Reactivated(Event):
    """A dormant partnership is active again (an exchange was recorded)."""

    type: Literal["reactivated"] = "reactivated"


class InvitationExtended(Event):
    type: Literal["invitation_extended"] = "invitation_extended"
    invitation_id: str
    event: str
    date: Day | None = None
    from_side: Side
    to_side: Side


class InvitationAnswered(Event):
    type: Literal["invitation_answered"] = "invitation_answered"
    invitation_id: str
    accepted: bool
    note: str | None = None


class Upgraded(Event):
    type: Literal["upgraded"] = "upgraded"
    from_tier: Tier
    to_tier: Tier
    reference: str | None = None


class Renewed(Event):
    type: Literal["renewed"] = "renewed"
    term: timedelta
    expires_at: datetime
    reference: str | None = None


class Corrected(Event):
    type: Literal["corrected"] = "corrected"
    target_version: int
    target_type: str
    reason: str
    correction: dict[str, Any]


class Withdrawn(Event):
    type: Literal["withdrawn"] = "withdrawn"
    by: Person | None = None
    reason: str


class Terminated(Event):
    type: Literal["terminated"] = "terminated"
    by: Person | None = None
    reason: str


class TalksDeadlinePassed(Event):
    type: Literal["talks_deadline_passed"] = "talks_deadline_passed"
    deadline: datetime


class BecameDormant(Event):
    type: Literal["became_dormant"] = "became_dormant"
    idle_since: datetime


class RenewalDue(Event):
    type: Literal["renewal_due"] = "renewal_due"
    expires_at: datetime


class Expired(Event):
    type: Literal["expired"] = "expired"
    expires_at: datetime


class SignalRejected(Event):
    """A signal that was not applied; kept so the audit shows every attempt."""

    type: Literal["signal_rejected"] = "signal_rejected"
    command: str
    reason: str
    request_id: str | None = None


AnyEvent = Annotated[
    Proposed
    | TalksOpened
    | MeetingRecorded
    | MemorandumDrafted
    | ApprovalRecorded
    | ProposalRejected
    | MemorandumSigned
    | ExchangeRecorded
    | Reactivated
    | InvitationExtended
    | InvitationAnswered
    | Upgraded
    | Renewed
    | Corrected
    | Withdrawn
    | Terminated
    | TalksDeadlinePassed
    | BecameDormant
    | RenewalDue
    | Expired
    | SignalRejected,
    Field(discriminator="type"),
]

EVENT_LIST_ADAPTER: TypeAdapter[list[AnyEvent]] = TypeAdapter(list[AnyEvent])

#: The stage an event moves a partnership to, where it moves it at all.
STAGE_AFTER: dict[str, Stage] = {
    "proposed": Stage.PROPOSED,
    "talks_opened": Stage.IN_TALKS,
    "proposal_rejected": Stage.REJECTED,
    "memorandum_signed": Stage.ACTIVE,
    "reactivated": Stage.ACTIVE,
    "withdrawn": Stage.WITHDRAWN,
    "terminated": Stage.TERMINATED,
    "became_dormant": Stage.DORMANT,
    "expired": Stage.EXPIRED,
}
