"""open_talks: talks begin, the partnership moves from proposed to in talks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.messages import Command, Event
from domain.registry import EventsOrRejection, command, evolves
from domain.state import PartnershipState
from domain.values import LongText, Person, Stage


class OpenTalks(Command):
    """Talks begin between the two parties."""

    name: ClassVar[str] = "open_talks"

    by: Person | None = None
    note: LongText | None = None


class TalksOpened(Event):
    type: Literal["talks_opened"] = "talks_opened"
    by: Person | None = None
    note: str | None = None

    def summary(self) -> str:
        return "talks opened" + (f" by {self.by.name}" if self.by else "")


@command(OpenTalks, frozenset({Stage.PROPOSED}))
def open_talks(state: PartnershipState, cmd: OpenTalks, now: datetime) -> EventsOrRejection:
    return [TalksOpened(at=now, by=cmd.by, note=cmd.note)]


@evolves(TalksOpened, frozenset({Stage.PROPOSED}), leads_to=Stage.IN_TALKS)
def talks_opened(state: PartnershipState, event: TalksOpened, version: int) -> dict[str, Any]:
    return {}  # the stage it leads to is all that changes
