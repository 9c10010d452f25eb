"""Value objects shared by commands, events and state.

Every model forbids unknown fields and trims strings, so a typo in a payload is an error
that names the field instead of a silently ignored key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

#: The longest free text we accept in one field (a memorandum's text is longer).
SHORT_TEXT = 500
LONG_TEXT = 20_000
#: A memorandum's full text; Temporal's payload limit (2 MB) is the real ceiling.
DOCUMENT_TEXT = 500_000
#: Lists (delegations, topics, fields) are small in practice; a bound stops abuse.
MAX_ITEMS = 200

#: Validation context key: refuse control characters in people's text. Only new input is
#: checked (commands and proposals as they arrive); events already stored load as they are.
PRINTABLE = "printable"
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _one_line(value: str, info: ValidationInfo) -> str:
    if info.context and info.context.get(PRINTABLE) and _ANY_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _lines(value: str, info: ValidationInfo) -> str:
    if info.context and info.context.get(PRINTABLE) and _CONTROL_BUT_LINES.search(value):
        raise ValueError("must not contain control characters other than tab and newline")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_one_line),
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=SHORT_TEXT), AfterValidator(_lines)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=LONG_TEXT), AfterValidator(_lines)
]
DocumentText = Annotated[str, Field(max_length=DOCUMENT_TEXT), AfterValidator(_lines)]
RequiredText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_TEXT),
    AfterValidator(_one_line),
]
CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$"),
]
#: An idempotency key or an actor's name: printable, short.
Token = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]

#: Dates before this are certainly typing mistakes (the first twinnings are 20th century;
#: older historical ties can still be described in text).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)


class Model(BaseModel):
    """Base of every Amity model: strict about unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Choice(StrEnum):
    """Every Amity enum: a StrEnum whose `value` is read without running Python code.

    Enum's own `value` (Python 3.11) is a Python descriptor calling a Python function, and
    pydantic reads it for every enum it writes out: a state's JSON holds dozens, and
    writing states is a large part of rebuilding the read models. A property over the
    member's `_value_` (what Enum's returns) runs in C: the same value, read faster. (Set
    after the class is made: in its body the enum machinery would see a member.)"""


setattr(Choice, "value", property(attrgetter("_value_")))  # noqa: B010 - see Choice


class Side(Choice):
    INITIATOR = "initiator"
    PARTNER = "partner"

    @property
    def other(self) -> Side:
        return Side.PARTNER if self is Side.INITIATOR else Side.INITIATOR


class Tier(Choice):
    FRIENDLY_RELATIONS = "friendly_relations"
    FRIENDSHIP_CITY = "friendship_city"
    SISTER_CITY = "sister_city"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class FieldOfCooperation(Choice):
    ECONOMY = "economy"
    TRADE = "trade"
    SCIENCE_TECHNOLOGY = "science_technology"
    CULTURE = "culture"
    EDUCATION = "education"
    TOURISM = "tourism"
    AGRICULTURE = "agriculture"
    HEALTH = "health"
    SPORT = "sport"
    YOUTH = "youth"
    ENVIRONMENT = "environment"
    OTHER = "other"


class ExchangeKind(Choice):
    VISIT = "visit"
    EVENT = "event"
    PROGRAM = "program"
    TRADE_MISSION = "trade_mission"
    OTHER = "other"


class Decision(Choice):
    GRANTED = "granted"
    DENIED = "denied"


class Stage(Choice):
    PROPOSED = "proposed"
    IN_TALKS = "in_talks"
    ACTIVE = "active"
    DORMANT = "dormant"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STAGES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


TERMINAL_STAGES = frozenset({Stage.WITHDRAWN, Stage.REJECTED, Stage.EXPIRED, Stage.TERMINATED})


def check_date(value: date | None) -> date | None:
    """Reject dates that can only be typing mistakes."""
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise ValueError(f"date must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return value


EventDate = Annotated[date, Field(description="ISO date, e.g. 2017-11-08")]


class PartyKind(Choice):
    CITY = "city"
    PROVINCE = "province"
    COUNTY = "county"
    INSTITUTION = "institution"


class Party(Model):
    """A city, province or institution taking part in a partnership."""

    name: Name
    country: CountryCode = Field(description="ISO 3166-1 alpha-2 code, e.g. CN, US")
    region: Name | None = None
    kind: PartyKind | None = Field(default=None, description="city, province, county, institution")


class Person(Model):
    """An official, delegate or signatory; `side` says which party they represent."""

    name: Name
    title: ShortText | None = None
    side: Side | None = None
    organisation: ShortText | None = None


class SidedPerson(Person):
    """A person whose side must be known (delegations, signatories, proposers)."""

    side: Side


def people(persons: Sequence[Person]) -> str:
    """`Name (Title), Name`: the persons named in a sentence about an event."""
    return ", ".join(p.name + (f" ({p.title})" if p.title else "") for p in persons)


Duration = Annotated[
    timedelta,
    Field(description="ISO 8601 duration (P365D, P2Y, PT5S) or a number of seconds"),
]


class Policy(Model):
    """Timers of a partnership's life; each is off when absent."""

    talks_deadline: Duration | None = None
    dormant_after: Duration | None = None
    term: Duration | None = None
    renewal_notice: Duration | None = None

    @field_validator("talks_deadline", "dormant_after", "term", "renewal_notice")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        return check_duration(value)


def check_duration(value: timedelta | None) -> timedelta | None:
    """A policy duration: positive and at most 200 years."""
    if value is not None and value <= timedelta(0):
        raise ValueError("duration must be positive")
    if value is not None and value > timedelta(days=365 * 200):
        raise ValueError("duration must be at most 200 years")
    return value


class RequiredApproval(Model):
    """An authority whose approval must be granted before signing (council, FAO, CPAFFC...)."""

    side: Side
    authority: RequiredText


Fields = Annotated[
    list[FieldOfCooperation], Field(min_length=1, max_length=len(FieldOfCooperation))
]


def unique_fields(value: list[FieldOfCooperation]) -> list[FieldOfCooperation]:
    """Keep the first occurrence of each field, in the caller's order."""
    return list(dict.fromkeys(value))
