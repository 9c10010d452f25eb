"""record_exchange: an exchange in one field of cooperation; it wakes a dormant partnership."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from domain.clock import future
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import ACTIVE_STAGES
from domain.state import ExchangeRecord, PartnershipState, push_recent, record_of
from domain.values import (
    MAX_ITEMS,
    EventDate,
    ExchangeKind,
    FieldOfCooperation,
    LongText,
    Person,
    RequiredText,
    Stage,
    check_date,
)


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


class ExchangeRecorded(Event):
    type: Literal["exchange_recorded"] = "exchange_recorded"
    date: Day
    field: FieldOfCooperation
    kind: ExchangeKind
    title: str
    participants: list[Person] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: str | None = None

    def summary(self) -> str:
        return f"{self.kind.value} in {self.field.value} on {self.date}: {self.title}"


class Reactivated(Event):
    """A dormant partnership is active again (an exchange was recorded)."""

    type: Literal["reactivated"] = "reactivated"

    def summary(self) -> str:
        return "active again after dormancy"


@command(RecordExchange, ACTIVE_STAGES)
def record_exchange(
    state: PartnershipState, cmd: RecordExchange, now: datetime
) -> EventsOrRejection:
    if state.effective_clock and (refused := future("the exchange date", cmd.date, now)):
        return Rejection(refused)
    result: list[Event] = []
    if state.stage == Stage.DORMANT:
        result.append(Reactivated(at=now))
    result.append(
        ExchangeRecorded(
            at=now,
            date=cmd.date,
            field=cmd.field,
            kind=cmd.kind,
            title=cmd.title,
            participants=cmd.participants,
            outcome=cmd.outcome,
        )
    )
    return result


@evolves(Reactivated, frozenset({Stage.DORMANT}), leads_to=Stage.ACTIVE)
def reactivated(state: PartnershipState, event: Reactivated, version: int) -> dict[str, Any]:
    return {}  # the stage it leads to is all that changes


@evolves(ExchangeRecorded, frozenset({Stage.ACTIVE}))
def exchange_recorded(
    state: PartnershipState, event: ExchangeRecorded, version: int
) -> dict[str, Any]:
    exchange = record_of(ExchangeRecord, event, version)
    by_field = dict(state.exchanges_by_field)
    by_field[event.field.value] = by_field.get(event.field.value, 0) + 1
    last = state.last_exchange_on
    return {
        "exchanges": push_recent(state.exchanges, exchange, state.keeps_all),
        "exchange_count": state.exchange_count + 1,
        "exchanges_by_field": by_field,
        "last_exchange_on": event.date if last is None or event.date > last else last,
        "last_exchange_at": event.at,
    }
