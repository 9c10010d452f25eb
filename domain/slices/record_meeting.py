"""record_meeting: a meeting of the delegations joins the partnership's record."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from domain.clock import future
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import TALKING
from domain.state import MeetingRecord, PartnershipState, push_recent, record_of
from domain.values import (
    MAX_ITEMS,
    EventDate,
    LongText,
    Person,
    RequiredText,
    SidedPerson,
    check_date,
    people,
)


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


class MeetingRecorded(Event):
    type: Literal["meeting_recorded"] = "meeting_recorded"
    date: Day
    place: str
    delegation: list[SidedPerson]
    counterparts: list[Person] = []  # noqa: RUF012 - pydantic copies field defaults
    topics: list[str] = []  # noqa: RUF012 - pydantic copies field defaults
    outcome: str | None = None

    def summary(self) -> str:
        return (
            f"meeting on {self.date} at {self.place}:"
            f" {people(self.delegation)} with {people(self.counterparts)}"
        )


@command(RecordMeeting, TALKING)
def record_meeting(state: PartnershipState, cmd: RecordMeeting, now: datetime) -> EventsOrRejection:
    if state.effective_clock and (refused := future("the meeting date", cmd.date, now)):
        return Rejection(refused)
    return [
        MeetingRecorded(
            at=now,
            date=cmd.date,
            place=cmd.place,
            delegation=cmd.delegation,
            counterparts=cmd.counterparts,
            topics=cmd.topics,
            outcome=cmd.outcome,
        )
    ]


@evolves(MeetingRecorded, TALKING)
def meeting_recorded(
    state: PartnershipState, event: MeetingRecorded, version: int
) -> dict[str, Any]:
    record = record_of(MeetingRecord, event, version)
    last = state.last_meeting_on
    return {
        "meetings": push_recent(state.meetings, record, state.keeps_all),
        "meeting_count": state.meeting_count + 1,
        "last_meeting_on": event.date if last is None or event.date > last else last,
    }
