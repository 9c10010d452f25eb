"""draft_memorandum: a numbered draft of the memorandum, its text or only its sha256."""

from __future__ import annotations

import hashlib
from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from domain.clock import future
from domain.errors import IllegalEvent
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.state import DraftRecord, PartnershipState, push_recent, record_of
from domain.values import (
    DocumentText,
    EventDate,
    FieldOfCooperation,
    Fields,
    Name,
    RequiredText,
    Stage,
    check_date,
)


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
    date: EventDate | None = Field(default=None, description="The day of this draft")

    _date = field_validator("date")(check_date)

    @model_validator(mode="after")
    def _text_or_hash(self) -> DraftMemorandum:
        if not (self.text and self.text.strip()) and not self.text_sha256:
            raise ValueError("a draft needs its text or its text_sha256")
        return self


class MemorandumDrafted(Event):
    type: Literal["memorandum_drafted"] = "memorandum_drafted"
    draft_version: int
    title: str
    languages: list[str]
    text_sha256: str
    text: str | None = None
    fields: list[FieldOfCooperation]
    date: Day | None = None

    def summary(self) -> str:
        return f"draft {self.draft_version}: {self.title} ({', '.join(self.languages)})"


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@command(DraftMemorandum, frozenset({Stage.IN_TALKS}))
def draft_memorandum(
    state: PartnershipState, cmd: DraftMemorandum, now: datetime
) -> EventsOrRejection:
    text = cmd.text if cmd.text and cmd.text.strip() else None
    digest = text_digest(text) if text is not None else (cmd.text_sha256 or "").lower()
    if text is not None and cmd.text_sha256 and cmd.text_sha256.lower() != digest:
        return Rejection("text_sha256 does not match the sha256 of text")
    fields = cmd.fields or state.fields
    if state.effective_clock and (refused := future("the draft's date", cmd.date, now)):
        return Rejection(refused)
    return [
        MemorandumDrafted(
            at=now,
            draft_version=state.draft_count + 1,
            title=cmd.title,
            languages=cmd.languages,
            text_sha256=digest,
            text=text,
            fields=list(dict.fromkeys(fields)),
            date=cmd.date,
        )
    ]


@evolves(MemorandumDrafted, frozenset({Stage.IN_TALKS}))
def memorandum_drafted(
    state: PartnershipState, event: MemorandumDrafted, version: int
) -> dict[str, Any]:
    if event.draft_version != state.draft_count + 1:
        raise IllegalEvent(
            f"draft_version {event.draft_version} out of sequence (next is {state.draft_count + 1})"
        )
    draft = record_of(DraftRecord, event, version, "text")
    return {
        "drafts": push_recent(state.drafts, draft, state.keeps_all),
        "draft_count": event.draft_version,
    }
