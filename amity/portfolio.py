"""A portfolio file (CSV or JSON) read into rows, each with the line it starts on.

One row is one partnership as a city's records know it: the two parties, the tier, how far it
got, and the dates of its steps. The file comes from outside, so it is read with limits (its
size, the number of rows, each cell's length) and every problem is one line naming the line
of the file it is on; nothing here talks to Temporal. docs/import.md describes the format.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass
from datetime import date as Day  # noqa: N812 - `date` is also a field name
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from domain.errors import one_line
from domain.values import (
    MAX_ITEMS,
    PRINTABLE,
    CountryCode,
    Decision,
    ExchangeKind,
    FieldOfCooperation,
    Fields,
    LongText,
    Model,
    Name,
    PartyKind,
    Policy,
    RequiredText,
    ShortText,
    Side,
    SidedPerson,
    Tier,
    check_date,
    unique_fields,
)
from runtime.jsonin import InputRefused, parse_json
from runtime.textfile import FileRefused, read_text

#: The largest portfolio file read (a 1,000-row CSV with exchanges is about 400 KB).
MAX_FILE_BYTES = 32 * 1024 * 1024
#: The most rows one import takes (a province's whole register fits many times over).
MAX_ROWS = 20_000
#: The longest CSV cell: longer than any single text a command accepts, with its lists.
MAX_CELL = 100_000


class PortfolioError(ValueError):
    """The file cannot be read as a portfolio at all (one line)."""


class TargetStage(StrEnum):
    """How far a partnership had got: the last step the import records."""

    PROPOSED = "proposed"
    IN_TALKS = "in_talks"
    ACTIVE = "active"


class PartyRow(Model):
    name: Name
    country: CountryCode
    kind: PartyKind | None = None
    region: Name | None = None


class ApprovalRow(Model):
    """An authority's decision; every approval of a row is one the partnership required."""

    side: Side
    authority: RequiredText
    decision: Decision = Decision.GRANTED
    date: Day | None = None
    reference: ShortText | None = None

    _date = field_validator("date")(check_date)


class ExchangeRow(Model):
    date: Day
    field: FieldOfCooperation
    kind: ExchangeKind = ExchangeKind.OTHER
    title: RequiredText
    outcome: LongText | None = None

    _date = field_validator("date")(check_date)


class InvitationRow(Model):
    """An invitation extended (at the signing, or at the last step before it)."""

    event: RequiredText
    date: Day | None = None
    from_side: Side
    to_side: Side

    _date = field_validator("date")(check_date)


class PortfolioRow(Model):
    """One partnership of a portfolio, as the import reads it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,199}$")] | None = None
    initiator: PartyRow
    partner: PartyRow
    tier: Tier
    stage: TargetStage
    proposed_on: Day
    proposed_by: SidedPerson | None = None
    talks_opened_on: Day | None = None
    approvals: Annotated[list[ApprovalRow], Field(max_length=20)] = []  # noqa: RUF012 - pydantic copies field defaults
    memorandum_title: RequiredText | None = None
    languages: Annotated[
        list[Annotated[Name, Field(max_length=40)]], Field(min_length=1, max_length=10)
    ] = ["en"]  # noqa: RUF012 - pydantic copies field defaults
    signed_on: Day | None = None
    signed_at: RequiredText | None = None
    signatories: Annotated[list[SidedPerson], Field(max_length=MAX_ITEMS)] = []  # noqa: RUF012 - pydantic copies field defaults
    fields: Fields
    exchanges: Annotated[list[ExchangeRow], Field(max_length=1000)] = []  # noqa: RUF012 - pydantic copies field defaults
    invitations: Annotated[list[InvitationRow], Field(max_length=MAX_ITEMS)] = []  # noqa: RUF012 - pydantic copies field defaults
    policy: Policy | None = None

    _unique_fields = field_validator("fields")(unique_fields)
    _dates = field_validator("proposed_on", "talks_opened_on", "signed_on")(check_date)

    @model_validator(mode="after")
    def _steps_fit_the_stage(self) -> PortfolioRow:
        talking = self.stage in (TargetStage.IN_TALKS, TargetStage.ACTIVE)
        if talking and self.talks_opened_on is None:
            raise ValueError(f"talks_opened_on: required for stage {self.stage.value}")
        if not talking and self.talks_opened_on is not None:
            raise ValueError("talks_opened_on: given, but the stage is proposed")
        signing = (self.signed_on, self.signed_at, self.signatories)
        if self.stage == TargetStage.ACTIVE:
            if self.signed_on is None or not self.signed_at or not self.signatories:
                raise ValueError("signed_on, signed_at and signatories: required for stage active")
        elif any(signing):
            raise ValueError(
                f"signed_on/signed_at/signatories: given, but the stage is {self.stage}"
            )
        if self.stage != TargetStage.ACTIVE and self.exchanges:
            raise ValueError("exchanges: only an active (signed) partnership has exchanges")
        if self.stage == TargetStage.PROPOSED and (self.approvals or self.invitations):
            raise ValueError("approvals and invitations come after talks open (stage in_talks)")
        self._dates_in_order()
        return self

    def _dates_in_order(self) -> None:
        steps = [("proposed_on", self.proposed_on), ("talks_opened_on", self.talks_opened_on)]
        steps += [("signed_on", self.signed_on)]
        known = [(name, day) for name, day in steps if day is not None]
        for (before, early), (after, late) in itertools.pairwise(known):
            if late < early:
                raise ValueError(f"{after} {late} is before {before} {early}")
        for approval in self.approvals:
            if approval.date and self.signed_on and approval.date > self.signed_on:
                raise ValueError(
                    f"approvals: {approval.authority} on {approval.date} is after the signing"
                    f" on {self.signed_on}"
                )
        for exchange in self.exchanges:
            if self.signed_on and exchange.date < self.signed_on:
                raise ValueError(
                    f"exchanges: {exchange.title!r} on {exchange.date} is before the signing"
                    f" on {self.signed_on}"
                )

    @property
    def last_step_on(self) -> Day:
        """The date of the row's latest step (its exchanges included)."""
        days = [self.proposed_on, self.talks_opened_on, self.signed_on]
        days += [exchange.date for exchange in self.exchanges]
        days += [a.date for a in self.approvals]
        return max(day for day in days if day is not None)


@dataclass(frozen=True)
class Line:
    """A row as read: the file's line it starts on, and its raw data (or why it is unreadable)."""

    line: int
    data: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class Parsed:
    line: int
    row: PortfolioRow | None
    error: str | None = None


def parse_row(line: Line) -> Parsed:
    """Validate one row; the error names the field and the reason, on one line."""
    if line.error is not None or line.data is None:
        return Parsed(line.line, None, line.error or "unreadable row")
    try:
        row = PortfolioRow.model_validate(line.data, context={PRINTABLE: True})
    except ValidationError as error:
        return Parsed(line.line, None, one_line(error))
    return Parsed(line.line, row)


# -- reading the file ----------------------------------------------------------------------


def read_lines(path: Path) -> list[Line]:
    """The file's rows with their line numbers; CSV or JSON by the name's ending."""
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        lines = json_lines(text, str(path))
    elif suffix == ".csv":
        lines = csv_lines(text, str(path))
    else:
        raise PortfolioError(f"{path}: a portfolio is a .csv or a .json file")
    if not lines:
        raise PortfolioError(f"{path}: no rows")
    return lines


def _read_text(path: Path) -> str:
    try:
        return read_text(path, MAX_FILE_BYTES, "a portfolio file", "split the portfolio")
    except FileRefused as error:
        raise PortfolioError(str(error)) from None


def json_lines(text: str, source: str) -> list[Line]:
    """A JSON array of row objects; each row keeps the line its object starts on."""
    try:
        value = parse_json(text, source)  # the limits: size, depth, finite numbers
    except InputRefused as error:
        raise PortfolioError(str(error)) from None
    if not isinstance(value, list):
        raise PortfolioError(f"{source}: expected a JSON array of partnerships (one per row)")
    if len(value) > MAX_ROWS:
        raise PortfolioError(f"{source}: {len(value):,} rows; at most {MAX_ROWS:,} per import")
    starts = _element_lines(text, len(value))
    return [
        Line(line, item)
        if isinstance(item, dict)
        else Line(line, None, f"expected a JSON object, got {type(item).__name__}")
        for line, item in zip(starts, value, strict=True)
    ]


def _element_lines(text: str, count: int) -> list[int]:
    """The line each top-level array element starts on (the text is valid JSON already)."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    lines: list[int] = []
    for _ in range(count):
        while text[position] in " \t\r\n,":
            position += 1
        lines.append(text.count("\n", 0, position) + 1)
        _, position = decoder.raw_decode(text, position)
    return lines


#: CSV columns, in the order the example writes them. Lists are compact: items separated
#: by ';', an item's parts by '|' (docs/import.md).
CSV_COLUMNS = (
    "id",
    "initiator",
    "initiator_country",
    "initiator_kind",
    "initiator_region",
    "partner",
    "partner_country",
    "partner_kind",
    "partner_region",
    "tier",
    "stage",
    "proposed_on",
    "proposed_by",
    "talks_opened_on",
    "approvals",
    "memorandum_title",
    "languages",
    "signed_on",
    "signed_at",
    "signatories",
    "fields",
    "exchanges",
    "invitations",
    "term",
    "renewal_notice",
    "dormant_after",
)
REQUIRED_COLUMNS = frozenset(
    {"initiator", "initiator_country", "partner", "partner_country", "tier", "stage"}
    | {"proposed_on", "fields"}
)


class CellError(ValueError):
    """A compact cell that does not split as the format says."""


def csv_lines(text: str, source: str) -> list[Line]:
    """A CSV file with a header row; blank lines and lines starting with '#' are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = csv.field_size_limit(MAX_CELL)
    try:
        return _csv_rows(reader, source)
    except csv.Error as error:
        raise PortfolioError(f"{source}: line {reader.line_num}: {error}") from None
    finally:
        csv.field_size_limit(previous)


def _csv_rows(reader: Any, source: str) -> list[Line]:
    header: list[str] | None = None
    lines: list[Line] = []
    start = 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not cells or not any(cell.strip() for cell in cells) or cells[0].startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in cells]
            _check_header(header, source, line)
            continue
        if len(lines) >= MAX_ROWS:
            raise PortfolioError(f"{source}: more than {MAX_ROWS:,} rows; split the portfolio")
        if len(cells) != len(header):
            lines.append(Line(line, None, f"{len(cells)} cells, the header has {len(header)}"))
            continue
        try:
            lines.append(Line(line, csv_row(dict(zip(header, cells, strict=True)))))
        except CellError as error:
            lines.append(Line(line, None, str(error)))
    if header is None:
        raise PortfolioError(f"{source}: no header row")
    return lines


def _check_header(header: list[str], source: str, line: int) -> None:
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise PortfolioError(
            f"{source}: line {line}: unknown column {unknown[0][:40]!r}"
            f" (columns: {', '.join(CSV_COLUMNS)})"
        )
    missing = sorted(REQUIRED_COLUMNS - set(header))
    if missing:
        raise PortfolioError(f"{source}: line {line}: missing column {missing[0]!r}")
    if len(set(header)) != len(header):
        raise PortfolioError(f"{source}: line {line}: a column is named twice")


def _items(cell: str) -> list[list[str]]:
    return [[part.strip() for part in item.split("|")] for item in cell.split(";") if item.strip()]


def _parts(column: str, item: list[str], names: tuple[str, ...], least: int) -> dict[str, str]:
    if not least <= len(item) <= len(names):
        shape = "|".join(names[:least]) + "".join(f"[|{n}]" for n in names[least:])
        raise CellError(f"{column}: {'|'.join(item)[:60]!r} is not {shape}")
    return {name: value for name, value in zip(names, item, strict=False) if value}


def _label(value: str) -> str:
    """Tiers, stages, fields and kinds are accepted as printed ('sister city') or stored."""
    return value.strip().lower().replace(" ", "_").replace("-", "_")


def csv_row(cells: dict[str, str]) -> dict[str, Any]:
    """One CSV row as the JSON form of a row (docs/import.md)."""
    value = {name: cell.strip() for name, cell in cells.items() if cell.strip()}
    row: dict[str, Any] = {}
    for side in ("initiator", "partner"):
        party = {
            "name": value.get(side, ""),
            "country": value.get(f"{side}_country", ""),
        }
        if f"{side}_kind" in value:
            party["kind"] = _label(value[f"{side}_kind"])
        if f"{side}_region" in value:
            party["region"] = value[f"{side}_region"]
        row[side] = party
    for name in ("id", "proposed_on", "talks_opened_on", "memorandum_title", "signed_on"):
        if name in value:
            row[name] = value[name]
    if "signed_at" in value:
        row["signed_at"] = value["signed_at"]
    for name in ("tier", "stage"):
        if name in value:
            row[name] = _label(value[name])
    if "fields" in value:
        row["fields"] = [_label(item) for item in value["fields"].split(";") if item.strip()]
    if "languages" in value:
        row["languages"] = [item.strip() for item in value["languages"].split(";") if item.strip()]
    proposers = _items(value.get("proposed_by", ""))
    if len(proposers) > 1:
        raise CellError("proposed_by: one person (Name|Title)")
    if proposers:
        parts = _parts("proposed_by", proposers[0], ("name", "title"), 1)
        row["proposed_by"] = {**parts, "side": "initiator"}
    row["approvals"] = [
        _parts("approvals", item, ("side", "authority", "decision", "date", "reference"), 2)
        for item in _items(value.get("approvals", ""))
    ]
    row["signatories"] = [
        _parts("signatories", item, ("side", "name", "title"), 2)
        for item in _items(value.get("signatories", ""))
    ]
    exchanges = []
    for item in _items(value.get("exchanges", "")):
        parts = _parts("exchanges", item, ("date", "field", "kind", "title"), 4)
        exchanges.append(
            {
                **parts,
                "field": _label(parts.get("field", "")),
                "kind": _label(parts.get("kind", "")),
            }
        )
    row["exchanges"] = exchanges
    row["invitations"] = [
        _parts("invitations", item, ("from_side", "to_side", "event", "date"), 3)
        for item in _items(value.get("invitations", ""))
    ]
    policy = {
        name: value[name] for name in ("term", "renewal_notice", "dormant_after") if name in value
    }
    if policy:
        row["policy"] = policy
    return row
