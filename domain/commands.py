"""What people and integrations ask of a partnership: the start input and every command.

Each command is one JSON object, so the Temporal UI's forms and any client can send it.
`parse_command` turns a raw payload into a command or a one-line reason.
"""

from __future__ import annotations

from datetime import date as Date  # noqa: N812 - `date` is also a field name
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError, field_validator, model_validator

from domain.errors import one_line
from domain.values import (
    MAX_ITEMS,
    PRINTABLE,
    Decision,
    DocumentText,
    Duration,
    EventDate,
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
    Side,
    SidedPerson,
    Tier,
    Token,
    check_date,
    check_duration,
    unique_fields,
)


class Command(Model):
    """Base of every command: who sent it and the idempotency key."""

    name: ClassVar[str] = ""

    actor: Token | None = Field(
        default=None, description="Who sent it: an operator's or an integration's name"
    )
    request_id: Token | None = Field(
        default=None,
        description="Idempotency key: a repeat with the same key changes nothing",
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

    _unique_fields = field_validator("fields")(unique_fields)

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


class OpenTalks(Command):
    """Talks begin between the two parties."""

    name: ClassVar[str] = "open_talks"

    by: Person | None = None
    note: LongText | None = None


class RecordMeeting(Command):
    """A meeting of the delegations: when, where, who, about what."""

    name: ClassVar[str] = "record_meeting"

    date: EventDate
    place: RequiredText
    delegation: Annotated[list[SidedPerson], Field(min_length=1, max_length=MAX_ITEMS)]
    counterparts: Annotated[list[Person], Field(max_length=MAX_ITEMS)] = []  # noqa: RUF012 - pydantic copies field defaults
    topics: Annotated[list[RequiredText], Field(max_length=MAX_ITEMS)] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: LongText | None = None

    _date = field_validator("date")(check_date)


class DraftMemorandum(Command):
    """A draft of the memorandum (its text, or only the sha256 of it)."""

    name: ClassVar[str] = "draft_memorandum"

    title: RequiredText
    languages: Annotated[
        list[Annotated[Name, Field(max_length=40)]], Field(min_length=1, max_length=10)
    ]
    text: DocumentText | None = None
    text_sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    fields: Fields | None = None

    @model_validator(mode="after")
    def _text_or_hash(self) -> DraftMemorandum:
        if not (self.text and self.text.strip()) and not self.text_sha256:
            raise ValueError("a draft needs its text or its text_sha256")
        return self


class RecordApproval(Command):
    """An authority's decision on the partnership; a required one denied ends it."""

    name: ClassVar[str] = "record_approval"

    side: Side
    authority: RequiredText
    decision: Decision
    reference: ShortText | None = None
    date: EventDate | None = None

    _date = field_validator("date")(check_date)


class SignMemorandum(Command):
    """Both sides sign a draft: the partnership becomes active, its term begins."""

    name: ClassVar[str] = "sign_memorandum"

    date: EventDate
    place: RequiredText
    draft_version: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The draft being signed; the latest when omitted"
    )
    signatories: Annotated[list[SidedPerson], Field(min_length=2, max_length=MAX_ITEMS)]

    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _both_sides_sign(self) -> SignMemorandum:
        sides = {person.side for person in self.signatories}
        missing = [side.value for side in Side if side not in sides]
        if missing:
            raise ValueError(f"signatories: at least one signatory per side, none for {missing[0]}")
        return self


class RecordExchange(Command):
    """An exchange in one field of cooperation (reactivates a dormant partnership)."""

    name: ClassVar[str] = "record_exchange"

    date: EventDate
    field: FieldOfCooperation
    kind: ExchangeKind
    title: RequiredText
    participants: Annotated[list[Person], Field(max_length=MAX_ITEMS)] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: LongText | None = None

    _date = field_validator("date")(check_date)


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


class AnswerInvitation(Command):
    """The invited side accepts or declines an invitation."""

    name: ClassVar[str] = "answer_invitation"

    invitation_id: Token
    accepted: bool
    note: LongText | None = None


class Upgrade(Command):
    """Raise the tier, e.g. friendly relations to sister cities."""

    name: ClassVar[str] = "upgrade"

    to_tier: Tier
    reference: ShortText | None = None


class Renew(Command):
    """Start a new term (the current term length unless another is given)."""

    name: ClassVar[str] = "renew"

    term: Duration | None = Field(
        default=None, description="New term; the current one when omitted"
    )
    reference: ShortText | None = None

    _term = field_validator("term")(check_duration)


class Correct(Command):
    """Correct fields of an earlier event; the original stays in the history."""

    name: ClassVar[str] = "correct"

    target_version: Annotated[int, Field(ge=1)]
    reason: RequiredText
    correction: dict[str, Any] = Field(min_length=1)


class Withdraw(Command):
    """Withdraw the proposal before signing."""

    name: ClassVar[str] = "withdraw"

    by: Person | None = None
    reason: RequiredText


class Terminate(Command):
    """End an active or dormant partnership."""

    name: ClassVar[str] = "terminate"

    by: Person | None = None
    reason: RequiredText


# Commands the engine itself issues when a policy timer fires (never sent by users).


class NoteTalksDeadline(Command):
    name: ClassVar[str] = "note_talks_deadline"


class MarkDormant(Command):
    name: ClassVar[str] = "mark_dormant"


class NoteRenewalDue(Command):
    name: ClassVar[str] = "note_renewal_due"


class Expire(Command):
    name: ClassVar[str] = "expire"


class RecordRejectedSignal(Command):
    """Engine command: a signal that could not be applied, kept for the audit."""

    name: ClassVar[str] = "record_rejected_signal"

    command: ShortText
    reason: LongText
    sender_request_id: ShortText | None = None


class InvalidInput(ValueError):  # noqa: N818 - a public name others import
    """A payload that is not a valid command; the message is one line for people."""


def parse_payload(model: type[Command], payload: Any, printable: bool = False) -> Command:
    """Validate a decoded JSON payload against `model`; raise InvalidInput with one line.
    `printable` also refuses control characters in people's text (new input only)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidInput(
            f"{model.name}: the payload must be one JSON object, got {type(payload).__name__}"
        )
    try:
        return model.model_validate(payload, context={PRINTABLE: printable})
    except ValidationError as error:
        raise InvalidInput(f"{model.name}: {one_line(error)}") from None


def parse_command(name: str, payload: Any, printable: bool = False) -> Command:
    """Look up a user command by name (in the catalogue) and validate its payload."""
    model = USER_COMMANDS.get(name)
    if model is None:
        known = ", ".join(USER_COMMANDS)
        raise InvalidInput(f"unknown command {name[:60]!r}; known commands: {known}")
    return parse_payload(model, payload, printable)


def parse_proposal(payload: Any, printable: bool = False) -> Proposal:
    """Validate a start input."""
    proposal = parse_payload(Proposal, payload, printable)
    assert isinstance(proposal, Proposal)
    return proposal


__all__ = [
    "AnswerInvitation",
    "Command",
    "Correct",
    "Date",
    "DraftMemorandum",
    "Expire",
    "ExtendInvitation",
    "InvalidInput",
    "MarkDormant",
    "NoteRenewalDue",
    "NoteTalksDeadline",
    "OpenTalks",
    "Proposal",
    "RecordApproval",
    "RecordExchange",
    "RecordMeeting",
    "RecordRejectedSignal",
    "Renew",
    "SignMemorandum",
    "Terminate",
    "Upgrade",
    "Withdraw",
    "parse_command",
    "parse_payload",
    "parse_proposal",
]

# The catalogue registers these models with their decisions (domain/decider.py); imported
# last, as it needs the models above.
from domain.registry import USER_COMMANDS  # noqa: E402
