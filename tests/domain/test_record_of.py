"""Records made from events without a second validation (`record_of`) are exactly the
records validation makes: fields, their order, the fields set, JSON, equality; no list
shared with the event; and where validating could change or refuse something, it still
validates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ValidationError

from domain.messages import Event
from domain.slices.draft_memorandum import MemorandumDrafted
from domain.slices.extend_invitation import InvitationExtended
from domain.slices.record_approval import ApprovalRecorded
from domain.slices.record_exchange import ExchangeRecorded
from domain.slices.record_meeting import MeetingRecorded
from domain.state import (
    _CARRY_PLANS,
    _VALIDATE,
    ApprovalRecord,
    DraftRecord,
    ExchangeRecord,
    InvitationRecord,
    MeetingRecord,
    Record,
    carried_over,
    record_of,
)

AT = datetime(2018, 4, 20, 8, 30, tzinfo=UTC)
JING = {"name": "Jing Dazhong", "side": "initiator", "title": "Vice Mayor"}
ZHANG = {"name": "Zhang Zhaofu", "organisation": "Cupertino City Council"}

CASES: list[tuple[type[Record], BaseModel, tuple[str, ...]]] = [
    (
        MeetingRecord,
        MeetingRecorded(at=AT, date=date(2017, 11, 15), place="City Hall", delegation=[JING]),
        (),
    ),
    (
        MeetingRecord,
        MeetingRecorded.model_validate(
            {
                "at": AT,
                "date": "2017-11-15",
                "place": "  Cupertino  ",
                "delegation": [JING, {**JING, "name": "Li"}],
                "counterparts": [ZHANG],
                "topics": ["science", "trade"],
                "outcome": "Agreed — to sign",
            }
        ),
        (),
    ),
    (
        DraftRecord,
        MemorandumDrafted(
            at=AT,
            draft_version=2,
            title="Memorandum",
            languages=["zh", "en"],
            text="Both texts are equally valid.",
            text_sha256="ab" * 32,
            fields=["trade", "culture"],
        ),
        ("text",),
    ),
    (
        ApprovalRecord,
        ApprovalRecorded(
            at=AT, side="partner", authority="Council", decision="granted", required=True
        ),
        (),
    ),
    (
        ApprovalRecord,
        ApprovalRecorded(
            at=AT,
            side="initiator",
            authority="Provincial FAO",
            decision="denied",
            required=False,
            reference="Ref 12",
            date=date(2017, 11, 7),
        ),
        (),
    ),
    (
        ExchangeRecord,
        ExchangeRecorded(
            at=AT,
            date=date(2018, 4, 20),
            field="science_technology",
            kind="event",
            title="Summit",
            participants=[ZHANG, {"name": "Mianyang delegation", "side": "initiator"}],
            outcome="Contacts",
        ),
        (),
    ),
    (
        ExchangeRecord,
        ExchangeRecorded(at=AT, date=date(2019, 1, 1), field="trade", kind="visit", title="V"),
        (),
    ),
    (
        InvitationRecord,
        InvitationExtended(
            at=AT,
            invitation_id="inv-3",
            event="Expo",
            from_side="initiator",
            to_side="partner",
        ),
        (),
    ),
    (
        InvitationRecord,
        InvitationExtended(
            at=AT,
            invitation_id="inv-4",
            event="Summit",
            date=date(2018, 11, 15),
            from_side="partner",
            to_side="initiator",
        ),
        (),
    ),
]


@pytest.mark.parametrize(("cls", "event", "leave"), CASES)
def test_a_record_of_an_event_is_the_validated_record(
    cls: type[Record], event: BaseModel, leave: tuple[str, ...]
) -> None:
    validated = cls(version=7, **carried_over(event, *leave))
    made = record_of(cls, event, 7, *leave)
    assert _CARRY_PLANS[(cls, type(event), leave)] is not _VALIDATE  # made, not validated
    assert type(made) is cls
    assert made == validated
    assert list(made.__dict__.items()) == list(validated.__dict__.items())
    assert made.model_fields_set == validated.model_fields_set
    assert made.__pydantic_extra__ == validated.__pydantic_extra__
    assert made.__pydantic_private__ == validated.__pydantic_private__
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.model_dump() == validated.model_dump()
    assert cls.model_validate_json(made.model_dump_json()) == made
    for name, value in made.__dict__.items():
        if isinstance(value, list):
            assert value is not getattr(event, name, None)  # its own list, as validated
    with pytest.raises(ValidationError):  # frozen, like the validated one
        made.version = 8  # type: ignore[misc]
    again = record_of(cls, event, 7, *leave)
    for name, value in made.__dict__.items():
        if isinstance(value, list):
            assert again.__dict__[name] is not value  # defaults too: a list per record


class OddExchange(Event):
    """An event whose `title` is not text: validating its record refuses it."""

    type: Literal["odd_exchange"] = "odd_exchange"
    date: date
    field: str
    kind: str
    title: int


class ExtraExchange(Event):
    """An event with a field its record does not have: validation refuses the extra."""

    type: Literal["extra_exchange"] = "extra_exchange"
    date: date
    field: str
    kind: str
    title: str
    mood: str


@pytest.mark.parametrize(
    ("event", "given"),
    [
        (OddExchange, {"field": "trade", "kind": "visit", "title": 5}),
        (ExtraExchange, {"field": "trade", "kind": "visit", "title": "T", "mood": "good"}),
    ],
)
def test_where_validation_could_differ_it_still_validates(
    event: type[Event], given: dict[str, Any]
) -> None:
    made = event.model_validate({"at": AT, "date": "2019-01-01", **given})
    with pytest.raises(ValidationError):
        ExchangeRecord(version=1, **carried_over(made))
    with pytest.raises(ValidationError):
        record_of(ExchangeRecord, made, 1)
    assert _CARRY_PLANS[(ExchangeRecord, event, ())] is _VALIDATE
