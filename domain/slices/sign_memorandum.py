"""sign_memorandum: both sides sign a draft; the partnership becomes active, its term begins."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from domain.clock import effective_instant, future
from domain.errors import IllegalEvent
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.state import PartnershipState, SigningRecord
from domain.values import (
    MAX_ITEMS,
    EventDate,
    RequiredText,
    Side,
    SidedPerson,
    Stage,
    check_date,
    people,
)


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


class MemorandumSigned(Event):
    type: Literal["memorandum_signed"] = "memorandum_signed"
    date: Day
    place: str
    draft_version: int
    signatories: list[SidedPerson]
    expires_at: datetime | None = None

    def summary(self) -> str:
        return (
            f"memorandum (draft {self.draft_version}) signed on {self.date} at {self.place}"
            f" by {people(self.signatories)}"
        )


@command(SignMemorandum, frozenset({Stage.IN_TALKS}))
def sign_memorandum(
    state: PartnershipState, cmd: SignMemorandum, now: datetime
) -> EventsOrRejection:
    if not state.draft_count:
        return Rejection("cannot sign: no memorandum draft exists (send draft_memorandum first)")
    version = cmd.draft_version or state.draft_count
    if version > state.draft_count:
        return Rejection(
            f"draft_version {version} does not exist (latest draft is {state.draft_count})"
        )
    missing = state.missing_approvals()
    if missing:
        names = "; ".join(f"{m.authority} ({m.side.value})" for m in missing)
        return Rejection(f"cannot sign: required approval missing: {names}")
    if state.effective_clock:
        refused = future("the signing date", cmd.date, now)
        if refused is not None:
            return Rejection(refused)
    # The term runs from the signing date under the effective clock: a memorandum signed
    # in 2017 with a two-year term, recorded today, has already expired.
    start = effective_instant(cmd.date, now) if state.effective_clock else now
    expires_at = start + state.policy.term if state.policy.term else None
    return [
        MemorandumSigned(
            at=now,
            date=cmd.date,
            place=cmd.place,
            draft_version=version,
            signatories=cmd.signatories,
            expires_at=expires_at,
        )
    ]


@evolves(MemorandumSigned, frozenset({Stage.IN_TALKS}), leads_to=Stage.ACTIVE)
def memorandum_signed(
    state: PartnershipState, event: MemorandumSigned, version: int
) -> dict[str, Any]:
    if not 1 <= event.draft_version <= state.draft_count:
        raise IllegalEvent(f"signing unknown draft {event.draft_version}")
    if state.missing_approvals():
        raise IllegalEvent("signing while a required approval is missing")
    return {
        "signing": SigningRecord(
            version=version,
            date=event.date,
            place=event.place,
            draft_version=event.draft_version,
            signatories=event.signatories,
        ),
        "signed_at": event.at,
        "term_started_at": effective_instant(event.date, event.at)
        if state.effective_clock
        else event.at,
        "expires_at": event.expires_at,
    }
