"""open_talks: talks begin, the partnership moves from proposed to in talks."""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from domain.clock import future
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.state import PartnershipState
from domain.values import EventDate, LongText, Person, Stage, check_date


class OpenTalks(Command):
    """Talks begin between the two parties."""

    name: ClassVar[str] = "open_talks"

    by: Person | None = None
    note: LongText | None = None
    date: EventDate | None = Field(default=None, description="The day talks opened")

    _date = field_validator("date")(check_date)


class TalksOpened(Event):
    type: Literal["talks_opened"] = "talks_opened"
    by: Person | None = None
    note: str | None = None
    date: Day | None = None

    def summary(self) -> str:
        return "talks opened" + (f" by {self.by.name}" if self.by else "")


@command(OpenTalks, frozenset({Stage.PROPOSED}))
def open_talks(state: PartnershipState, cmd: OpenTalks, now: datetime) -> EventsOrRejection:
    if state.effective_clock:
        refused = future("the date talks opened", cmd.date, now)
        if refused is not None:
            return Rejection(refused)
    return [TalksOpened(at=now, by=cmd.by, note=cmd.note, date=cmd.date)]


@evolves(TalksOpened, frozenset({Stage.PROPOSED}), leads_to=Stage.IN_TALKS)
def talks_opened(state: PartnershipState, event: TalksOpened, version: int) -> dict[str, Any]:
    return {"talks_opened_on": event.date}
