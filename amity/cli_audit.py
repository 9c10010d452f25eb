"""`amity audit ...`: read-only commands for auditors (they never write to the store)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from amity.cli_common import UserError, console, friendly
from amity.settings import get_settings
from audit.history import HistoryLine, history
from domain.store import PartnershipStore

app = typer.Typer(help="Audit: history, state on any date, tamper evidence, reconcile, export.")


class Format(StrEnum):
    table = "table"
    json = "json"


def open_store() -> PartnershipStore:
    return PartnershipStore(get_settings().event_store_url)


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


@app.command("history")
@friendly
def history_command(
    partnership_id: Annotated[str, typer.Argument(help="The partnership (workflow) id")],
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Every event of one partnership, in order, with who, when and what."""
    store = open_store()
    lines = history(store, partnership_id)
    if not lines:
        raise UserError(f"no history for {partnership_id} in {store.url}")
    if format is Format.json:
        print(
            json.dumps(
                [line.model_dump(mode="json") for line in lines], indent=2, ensure_ascii=False
            )
        )
        return
    console.print(history_table(partnership_id, lines))
