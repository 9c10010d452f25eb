"""Records made from events without a second validation (`record_of`) are exactly the
records validation makes: fields, their order, the fields set, JSON, equality; no list
shared with the event; and where validating could change or refuse something, it still
validates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

import pytest
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_serializer,
    field_validator,
    model_serializer,
)

from domain.messages import Event
from domain.slices.draft_memorandum import MemorandumDrafted
from domain.slices.extend_invitation import InvitationExtended
from domain.slices.record_approval import ApprovalRecorded
from domain.slices.record_exchange import ExchangeRecorded
from domain.slices.record_meeting import MeetingRecorded
from domain.state import (
    _CARRY_PLANS,
    _RECORD_FIELDS,
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


@pytest.fixture(autouse=True)
def _plans_made_afresh() -> None:
    """Each test makes its plans itself: a plan cached by an earlier test (or, under
    mutation testing, by the unmutated code) would hide how this one is made."""
    _CARRY_PLANS.clear()
    _RECORD_FIELDS.clear()


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


def test_an_event_carries_over_every_field_but_its_type_its_instant_and_those_left_out() -> None:
    drafted = CASES[4 - 2][1]
    assert isinstance(drafted, MemorandumDrafted)
    carried = carried_over(drafted, "text")
    assert list(carried) == [
        name for name in MemorandumDrafted.model_fields if name not in {"type", "at", "text"}
    ]
    assert carried["languages"] is drafted.languages  # the objects as they are
    assert "text" in carried_over(drafted)


class Noted(Event):
    type: Literal["noted"] = "noted"
    note: str


class NoteRecord(Record):
    note: str


class NoteChecked(NoteRecord):
    @field_validator("note")
    @classmethod
    def upper(cls, value: str) -> str:
        return value.upper()


class NoteShown(NoteRecord):
    @field_serializer("note")
    def shown(self, value: str) -> str:
        return f"<{value}>"


class NoteLoose(NoteRecord):
    model_config = ConfigDict(extra="ignore")


class NoteStrict(NoteRecord):
    model_config = ConfigDict(str_strip_whitespace=True)


class NoteVersioned(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    version: str
    note: str


class NoteNeeding(NoteRecord):
    seen_by: str


class NoteWhole(NoteRecord):
    @model_serializer
    def whole(self) -> dict[str, Any]:
        return {"v": self.version, "n": self.note}


class VersionedNote(Event):
    type: Literal["versioned_note"] = "versioned_note"
    note: str
    version: int


class NoteWithDefaults(NoteRecord):
    seen: int = 5
    tags: list[str] | None = None


class Pair(Event):
    type: Literal["pair"] = "pair"
    note: str
    tags: list[str] | None = None


def test_a_record_of_two_fields_with_defaults_and_an_optional_list_is_the_validated_one() -> None:
    event = Pair(at=AT, note="hi", tags=["a"])
    made = record_of(NoteWithDefaults, event, 2)
    assert _CARRY_PLANS[(NoteWithDefaults, Pair, ())] is not _VALIDATE
    validated = NoteWithDefaults(version=2, note="hi", tags=["a"])
    assert made == validated and made.seen == 5
    assert list(made.__dict__.items()) == list(validated.__dict__.items())
    assert made.tags is not event.tags  # its own list, as validation makes one


def test_an_event_with_a_version_of_its_own_is_validated() -> None:
    event = VersionedNote(at=AT, note="hi", version=9)
    with pytest.raises(TypeError):  # version given twice, as validating it would be
        NoteRecord(version=1, **carried_over(event))
    with pytest.raises(TypeError):
        record_of(NoteRecord, event, 1)
    assert _CARRY_PLANS[(NoteRecord, VersionedNote, ())] is _VALIDATE


def test_a_record_of_one_field_is_made_too() -> None:
    event = Noted(at=AT, note="hi")
    made = record_of(NoteRecord, event, 3)
    assert _CARRY_PLANS[(NoteRecord, Noted, ())] is not _VALIDATE
    assert made == NoteRecord(version=3, note="hi")
    assert made.model_dump_json() == NoteRecord(version=3, note="hi").model_dump_json()


@pytest.mark.parametrize(
    "cls", [NoteChecked, NoteShown, NoteWhole, NoteLoose, NoteStrict, NoteVersioned, NoteNeeding]
)
def test_a_record_with_validators_serializers_other_settings_or_needs_is_validated(
    cls: type[BaseModel],
) -> None:
    event = Noted(at=AT, note="hi")
    version: Any = "3" if cls is NoteVersioned else 3
    try:
        expected: Any = cls(version=version, note="hi")
    except ValidationError as error:
        expected = type(error)
    try:
        made: Any = record_of(cls, event, version)  # type: ignore[type-var]
    except ValidationError as error:
        made = type(error)
    assert _CARRY_PLANS[(cls, Noted, ())] is _VALIDATE
    assert made == expected
    if not isinstance(made, type):
        assert made.model_dump_json() == expected.model_dump_json()


class DraftChecked(DraftRecord):
    @field_validator("title")
    @classmethod
    def titled(cls, value: str) -> str:
        return value


def test_a_validated_record_still_leaves_out_what_it_must() -> None:
    drafted = CASES[2][1]
    made = record_of(DraftChecked, drafted, 4, "text")
    assert _CARRY_PLANS[(DraftChecked, MemorandumDrafted, ("text",))] is _VALIDATE
    assert made == DraftChecked(version=4, **carried_over(drafted, "text"))
