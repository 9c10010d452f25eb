"""What `correct` may change in an earlier event, and how each value is validated.

History is never edited: a correction is a new event naming the event it corrects. Only
facts someone could have mistyped are correctable; decisions (a stage change, an
approval's decision, a tier) are changed by new commands, not by corrections.
"""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from typing import Annotated, ClassVar

from pydantic import Field, field_validator, model_validator

from domain.values import (
    MAX_ITEMS,
    ExchangeKind,
    FieldOfCooperation,
    Fields,
    LongText,
    Model,
    Name,
    Party,
    Person,
    Policy,
    RequiredApproval,
    RequiredText,
    ShortText,
    SidedPerson,
    check_date,
)


class Correction(Model):
    """A patch of an earlier event: only the fields given are changed.

    `null` clears a value only where the corrected fact may be empty (`nullable`); a
    required fact (a date, a place, the parties...) can be corrected but not removed.
    """

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Correction:
        cleared = [
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.nullable
        ]
        if cleared:
            raise ValueError(
                "; ".join(
                    f"{name}: cannot be null (give the corrected value)" for name in sorted(cleared)
                )
            )
        return self


class ProposalCorrection(Correction):
    nullable = frozenset({"rationale"})

    initiator: Party | None = None
    partner: Party | None = None
    proposed_by: SidedPerson | None = None
    fields: Fields | None = None
    rationale: LongText | None = None
    required_approvals: Annotated[list[RequiredApproval], Field(max_length=20)] | None = None
    policy: Policy | None = None
    date: Day | None = None

    _date = field_validator("date")(check_date)


class MeetingCorrection(Correction):
    nullable = frozenset({"outcome"})

    date: Day | None = None
    place: RequiredText | None = None
    delegation: Annotated[list[SidedPerson], Field(min_length=1, max_length=MAX_ITEMS)] | None = (
        None
    )
    counterparts: Annotated[list[Person], Field(max_length=MAX_ITEMS)] | None = None
    topics: Annotated[list[RequiredText], Field(max_length=MAX_ITEMS)] | None = None
    outcome: LongText | None = None

    _date = field_validator("date")(check_date)


class DraftCorrection(Correction):
    title: RequiredText | None = None
    languages: Annotated[list[Name], Field(min_length=1, max_length=10)] | None = None
    fields: Fields | None = None


class ApprovalCorrection(Correction):
    nullable = frozenset({"reference", "date"})

    reference: ShortText | None = None
    date: Day | None = None

    _date = field_validator("date")(check_date)


class SigningCorrection(Correction):
    date: Day | None = None
    place: RequiredText | None = None

    _date = field_validator("date")(check_date)


class ExchangeCorrection(Correction):
    nullable = frozenset({"outcome"})

    date: Day | None = None
    field: FieldOfCooperation | None = None
    kind: ExchangeKind | None = None
    title: RequiredText | None = None
    participants: Annotated[list[Person], Field(max_length=MAX_ITEMS)] | None = None
    outcome: LongText | None = None

    _date = field_validator("date")(check_date)


class InvitationCorrection(Correction):
    nullable = frozenset({"date"})

    event: RequiredText | None = None
    date: Day | None = None

    _date = field_validator("date")(check_date)


_MODELS: dict[str, type[Correction]] = {
    "proposed": ProposalCorrection,
    "meeting_recorded": MeetingCorrection,
    "memorandum_drafted": DraftCorrection,
    "approval_recorded": ApprovalCorrection,
    "memorandum_signed": SigningCorrection,
    "exchange_recorded": ExchangeCorrection,
    "invitation_extended": InvitationCorrection,
}

CORRECTABLE: dict[str, list[str]] = {name: list(m.model_fields) for name, m in _MODELS.items()}


def correction_model(target_type: str) -> type[Correction]:
    """The model validating a correction of an event of `target_type`."""
    return _MODELS[target_type]
