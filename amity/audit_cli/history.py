"""`audit history` and `audit as-of`: one partnership's events, and its state on a date."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from amity.audit_cli.common import (
    open_store,
)
from amity.cli_common import (
    FormatOption,
    JsonFlag,
    UserError,
    console,
    friendly,
    print_json,
    wants_json,
)
from runtime.redact import redact_url

if TYPE_CHECKING:  # the history is read from the store, loaded when a command reads it
    from audit.history import HistoryLine


def history_table(partnership_id: str, lines: list[HistoryLine]) -> Table:
    """The history as a table for people (shared by `audit history` and `amity demo`)."""
    table = Table(title=f"{partnership_id}: {len(lines)} events", show_lines=False)
    for column in ("v", "recorded (UTC)", "actor", "via", "event", "what"):
        table.add_column(column, overflow="fold")
    for line in lines:
        cells = (
            str(line.version),
            f"{line.recorded_at:%Y-%m-%d %H:%M:%S}",
            line.actor,
            line.via,
            line.type,
            line.summary,
        )
        table.add_row(*map(Text, cells))  # people's text is never read as rich markup
    return table


@friendly
def history_command(
    partnership_id: Annotated[str, typer.Argument(help="The partnership (workflow) id")],
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """Every event of one partnership, in order, with who, when and what."""
    from audit.history import history

    store = open_store()
    lines = history(store, partnership_id)
    if not lines:
        raise UserError(f"no history for {partnership_id} in {redact_url(store.url)}")
    if wants_json(as_json, format):
        print_json([line.model_dump(mode="json") for line in lines])
        return
    console.print(history_table(partnership_id, lines))


# -- state at a moment -------------------------------------------------------------------


@friendly
def as_of_command(
    partnership_id: Annotated[str, typer.Argument(help="The partnership (workflow) id")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="The state in effect on this date (signing, exchange... dates decide);"
            " ISO 8601, no zone = UTC, a date alone = the end of that day",
        ),
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at",
            help="Only what the register had recorded by then (same format); with --at:"
            " what the register said then about --at",
        ),
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Aggregate version")] = None,
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """The partnership's state in effect on a date, as recorded by a date, or at a version."""
    from audit.asof import AsOfError, as_of, parse_moment
    from domain.state import to_status

    try:
        moment = parse_moment(at) if at is not None else None
        known = parse_moment(known_at, "--known-at") if known_at is not None else None
        state = as_of(open_store(), partnership_id, at=moment, version=version, known_at=known)
    except AsOfError as error:
        raise UserError(str(error)) from None
    status = to_status(state).model_dump(mode="json")
    if wants_json(as_json, format):
        print_json(status)
        return
    when = [f"in effect on {at}"] if at else []
    when += [f"as recorded by {known_at}"] if known_at else []
    title = f"{partnership_id} {', '.join(when) or f'at version {state.version}'}"
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in (
        "stage",
        "stage_since",
        "tier",
        "initiator",
        "partner",
        "fields",
        "signed_on",
        "exchanges",
        "last_exchange_on",
        "expires_on",
        "version",
    ):
        value = status[key]
        if isinstance(value, dict) and "name" in value:
            value = f"{value['name']} ({value.get('country', '')})"
        elif isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(Text(key), Text("—" if value is None else str(value)))
    table.add_row(
        Text("meetings / drafts / approvals"),
        Text(f"{len(status['meetings'])} / {len(status['drafts'])} / {len(status['approvals'])}"),
    )
    console.print(table)
