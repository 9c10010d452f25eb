"""propose: the start input of a partnership workflow and its first event.

A proposal is not dispatched through the catalogue: it needs the partnership id the
workflow is started with, and its event creates the state the other commands act on.
"""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from domain.clock import future
from domain.messages import Command, Event
from domain.state import PartnershipState
from domain.values import (
    EventDate,
    FieldOfCooperation,
    Fields,
    LongText,
    Party,
    Policy,
    RequiredApproval,
    SidedPerson,
    Stage,
    Tier,
    check_date,
    unique_fields,
)


class Proposal(Command):
    """The start input of a partnership workflow."""

    name: ClassVar[str] = "propose"

    initiator: Party
    partner: Party
    tier: Tier
    proposed_by: SidedPerson
    fields: Fields
    rationale: LongText | None = None
    required_approvals: Annotated[list[RequiredApproval], Field(max_length=20)] = []  # noqa: RUF012 - pydantic copies field defaults
    policy: Policy = Policy()
    date: EventDate | None = Field(
        default=None, description="The day it was proposed (first contact); today if omitted"
    )

    _unique_fields = field_validator("fields")(unique_fields)
    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _two_parties(self) -> Proposal:
        if (self.initiator.name.casefold(), self.initiator.country) == (
            self.partner.name.casefold(),
            self.partner.country,
        ):
            raise ValueError("initiator and partner must be different parties")
        seen = set()
        for approval in self.required_approvals:
            key = (approval.side, approval.authority.casefold())
            if key in seen:
                raise ValueError(
                    f"required approval {approval.authority!r} ({approval.side}) is listed twice"
                )
            seen.add(key)
        return self


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
    date: Day | None = None
    #: Its timers run from effective dates (domain/clock.py); absent in older histories.
    effective_clock: bool = False

    def summary(self) -> str:
        return (
            f"{self.initiator.name} ({self.initiator.country}) proposes {self.tier.label} with"
            f" {self.partner.name} ({self.partner.country}); fields: {', '.join(self.fields)}"
        )


def refuse_proposal(proposal: Proposal, now: datetime) -> str | None:
    """Why the engine cannot record this proposal now (a date yet to come), or None."""
    return future("the proposal date", proposal.date, now)


def decide_proposal(
    partnership_id: str, proposal: Proposal, now: datetime, effective_clock: bool = False
) -> list[Proposed]:
    """The first event of a partnership (or of a new life after a terminal stage). Under the
    effective clock its talks deadline runs from its date (from when it is recorded when
    it has none)."""
    return [
        Proposed(
            at=now,
            partnership_id=partnership_id,
            initiator=proposal.initiator,
            partner=proposal.partner,
            tier=proposal.tier,
            proposed_by=proposal.proposed_by,
            fields=proposal.fields,
            rationale=proposal.rationale,
            required_approvals=proposal.required_approvals,
            policy=proposal.policy,
            date=proposal.date,
            effective_clock=effective_clock,
        )
    ]


def proposed(event: Proposed, version: int) -> PartnershipState:
    """The state a proposal starts: everything it names, in the `proposed` stage."""
    return PartnershipState(
        partnership_id=event.partnership_id,
        stage=Stage.PROPOSED,
        tier=event.tier,
        initiator=event.initiator,
        partner=event.partner,
        proposed_by=event.proposed_by,
        fields=event.fields,
        rationale=event.rationale,
        required_approvals=event.required_approvals,
        policy=event.policy,
        proposed_at=event.at,
        proposed_on=event.date,
        effective_clock=event.effective_clock,
        proposed_version=version,
        stage_since=event.at,
        version=version,
        # Counted and windowed from the start: what `_fold_old_lists` would otherwise add
        # to every new state (a state without counts is read as the older shape).
        meetings=[],
        meeting_count=0,
        last_meeting_on=None,
        drafts=[],
        draft_count=0,
        approvals=[],
        approval_count=0,
        exchanges=[],
        exchange_count=0,
        exchanges_by_field={},
        last_exchange_on=None,
        invitations=[],
        invitation_count=0,
        corrections=[],
        correction_count=0,
    )
