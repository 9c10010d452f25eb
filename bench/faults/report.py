"""The table of figures: printed with rich, written as markdown."""

from __future__ import annotations

import os
from collections.abc import Callable

from bench.faults.figures import Figures

#: Each column of the table: its heading and how a row's figures fill it.
COLUMNS: list[tuple[str, Callable[[Figures], str]]] = [
    ("scenario", lambda f: f.scenario),
    ("partnerships completed", lambda f: f"{f.completed}/{f.partnerships}"),
    ("commands applied", lambda f: str(f.commands_applied)),
    ("events stored", lambda f: str(f.events_stored)),
    ("duplicates", lambda f: str(f.duplicates)),
    ("losses", lambda f: str(f.losses)),
    (
        "bad inputs rejected cleanly / tried",
        lambda f: f"{f.bad_clean}/{f.bad_tried}" if f.bad_tried else "-",
    ),
    ("stuck workflows", lambda f: str(f.stuck)),
    (
        "reconcile / verify",
        lambda f: (
            "clean"
            if not (f.reconcile_bad or f.verify_bad)
            else f"{f.reconcile_bad} / {f.verify_bad} bad"
        ),
    ),
    (
        "faults injected",
        lambda f: (
            ", ".join(
                part
                for part in (
                    f"{f.worker_kills} worker kills" if f.worker_kills else "",
                    f"{f.server_restarts} server restart" if f.server_restarts else "",
                    f"{f.worker_exits} worker exits" if f.worker_exits else "",
                    f"{f.activity_retries} activity retries" if f.activity_retries else "",
                    *f.notes,
                )
                if part
            )
            or "-"
        ),
    ),
    ("seconds", lambda f: f"{f.seconds:.0f}"),
]


def markdown(results: list[Figures], title: str) -> str:
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(cell(f) for _, cell in COLUMNS) + " |" for f in results]
    problems = [f"- {f.scenario}: {p}" for f in results for p in f.problems]
    text = [f"# {title}", "", head, rule, *rows, ""]
    if problems:
        text += ["Problems:", "", *problems, ""]
    return "\n".join(text)


def machine() -> str:
    import platform

    cpus = os.cpu_count()
    return f"{platform.node()} ({platform.system()} {platform.machine()}, {cpus} CPUs)"


def print_table(results: list[Figures], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name, _ in COLUMNS:
        table.add_column(name)
    for figures in results:
        table.add_row(*(cell(figures) for _, cell in COLUMNS))
    console = Console()
    console.print(table)
    for figures in results:
        for problem in figures.problems[:20]:
            console.print(f"[red]{figures.scenario}[/red]: {problem}", markup=True, highlight=False)
