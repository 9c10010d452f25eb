"""Exports for auditors: every event as JSON lines or CSV, for one partnership or all."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from audit.history import history
from audit.log import entries
from store.application import PartnershipStore

CSV_COLUMNS = [
    "partnership_id",
    "version",
    "recorded_at",
    "decided_at",
    "type",
    "command",
    "via",
    "actor",
    "request_id",
    "workflow_id",
    "run_id",
    "summary",
    "event",
]


def partnership_ids(store: PartnershipStore) -> list[str]:
    """Every partnership in the log, in order of first appearance."""
    found: list[str] = []
    for entry in entries(store):
        if entry.originator_version == 1:
            found.append(str(store.readable(entry.state)["workflow_id"]))
    return found


def rows(store: PartnershipStore, partnership_id: str | None) -> Iterator[dict[str, Any]]:
    ids = [partnership_id] if partnership_id else partnership_ids(store)
    for pid in ids:
        for line in history(store, pid):
            yield {"partnership_id": pid, **line.model_dump(mode="json")}


def write_jsonl(store: PartnershipStore, partnership_id: str | None, out: Path) -> int:
    count = 0
    with out.open("w", encoding="utf-8") as stream:
        for row in rows(store, partnership_id):
            stream.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


#: A cell starting with one of these is read as a formula by spreadsheets (OWASP, "CSV
#: Injection"): `=HYPERLINK(...)` in an actor's name would become a live link or worse.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading `'` before a formula start."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(store: PartnershipStore, partnership_id: str | None, out: Path) -> int:
    """Every event as one CSV row; any cell that could run as a formula is neutralised
    (`'=...`), so the file is safe to open in a spreadsheet."""
    count = 0
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows(store, partnership_id):
            cells = {
                **{k: row[k] for k in CSV_COLUMNS if k != "event"},
                "event": json.dumps(row["event"], ensure_ascii=False, sort_keys=True),
            }
            writer.writerow({k: neutral_cell(v) for k, v in cells.items()})
            count += 1
    return count
