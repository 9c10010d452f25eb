"""renew: a new term starts (on its date, else now), of the current length unless another
is given."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from domain.clock import effective_instant
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import ACTIVE_STAGES
from domain.state import PartnershipState
from domain.values import Duration, EventDate, Policy, ShortText, check_date, check_duration


class Renew(Command):
    """Start a new term (the current term length unless another is given)."""

    name: ClassVar[str] = "renew"

    term: Duration | None = Field(
        default=None, description="New term; the current one when omitted"
    )
    reference: ShortText | None = None
    date: EventDate | None = Field(
        default=None,
        description="The day the new term starts (it may be ahead: the current term's end)",
    )

    _term = field_validator("term")(check_duration)
    _date = field_validator("date")(check_date)


class Renewed(Event):
    type: Literal["renewed"] = "renewed"
    term: timedelta
    expires_at: datetime
    reference: str | None = None
    date: Day | None = None

    def summary(self) -> str:
        return f"renewed until {self.expires_at:%Y-%m-%d %H:%M:%S} UTC"


@command(Renew, ACTIVE_STAGES)
def renew(state: PartnershipState, cmd: Renew, now: datetime) -> EventsOrRejection:
    term = cmd.term or state.policy.term
    if term is None:
        return Rejection("renew needs a term: the partnership's policy has none")
    start = now
    if state.effective_clock and cmd.date is not None:
        start = effective_instant(cmd.date, now)
    return [
        Renewed(at=now, term=term, expires_at=start + term, reference=cmd.reference, date=cmd.date)
    ]


@evolves(Renewed, ACTIVE_STAGES)
def renewed(state: PartnershipState, event: Renewed, version: int) -> dict[str, Any]:
    return {
        "expires_at": event.expires_at,
        "term_started_at": effective_instant(event.date, event.at)
        if state.effective_clock and event.date is not None
        else event.at,
        "renewal_due_noted": False,
        "policy": Policy.model_validate({**state.policy.model_dump(), "term": event.term}),
    }
