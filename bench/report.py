"""The table (rich) and the JSON file of one run."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.common import Row

#: The table goes to stdout (wide enough to read when piped); progress lines to `common.log`.
console = Console(width=None if Console().is_terminal else 180)
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
    }


def number(value: float | None, unit: str = "") -> str:
    if value is None or value != value:
        return "-"
    if unit == "ms" or abs(value) < 10:
        text = f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}"
    else:
        text = f"{value:,.0f}"
    return text


def cells(row: Row, bold: str = "") -> list[str]:
    """case, metric, median, min–max, floor, ratio, target, note."""
    if not row.samples:
        return [row.case, row.metric, "-", "-", "-", "-", "", row.note or "skipped"]
    spread = f"{number(min(row.samples), row.unit)}–{number(max(row.samples), row.unit)}"
    floor = (
        f"{number(row.floor_median, row.unit)} {row.unit} ({row.floor_label})"
        if row.floor_median is not None
        else ""
    )
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else "-"
    target = ""
    if row.target:
        mark = {True: "met", False: f"{bold}NOT met{bold}", None: "?"}[row.target_met]
        target = f"{row.target}: {mark}"
    median = f"{number(row.median, row.unit)} {row.unit}"
    return [row.case, row.metric, median, spread, floor, ratio, target, row.note]


COLUMNS = ("case", "metric", "median", "min–max", "floor (median)", "ratio", "target", "note")


def table(rows: list[Row], title: str) -> Table:
    out = Table(title=title, show_lines=False)
    for column in COLUMNS:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(Text(cell) for cell in cells(row)))
    return out


def write(
    rows: list[Row], options: dict[str, Any], extra: dict[str, Any], out: Path | None
) -> Path:
    stamp = datetime.now(UTC)
    path = out or RESULTS / f"{stamp:%Y-%m-%d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "created": stamp.isoformat(),
        "machine": machine(),
        "options": options,
        "rows": [row.as_json() for row in rows],
        "extra": extra,
        "note": (
            "medians of repetitions; ratios are to floors measured in the same run on the"
            " same machine, which is shared and noisy: compare ratios, not absolute numbers"
        ),
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def markdown(rows: list[Row]) -> str:
    """The same table as Markdown (for docs/performance.md)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(cells(row, bold="**")) + " |")
    return "\n".join(lines)
