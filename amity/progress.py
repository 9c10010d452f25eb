"""Progress for long operations: a rich bar on stderr, only for a person watching a terminal.

Under `--json`, or when stderr is a pipe or a file (scripts, CI, logs), nothing is drawn, so
what a script reads stays exactly the command's output and its one-line errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from amity.cli_common import errors

#: Called with (done, total); total None while it is not known.
Advance = Callable[[int, int | None], None]


def shown(quiet: bool = False) -> bool:
    """A bar is drawn only for a terminal on stderr and never under --json."""
    return not quiet and errors.is_terminal


@contextmanager
def progress(
    description: str, total: int | None = None, *, quiet: bool = False
) -> Iterator[Advance]:
    """A bar (or, while the total is unknown, a pulsing one) that lasts while the block runs;
    the block reports through the function it is given. Transient: it leaves no line behind."""
    if not shown(quiet):
        yield lambda _done, _total=None: None
        return
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(done: int, new_total: int | None = None) -> None:
            if new_total is not None:
                bar.update(task, total=new_total)
            bar.update(task, completed=done)

        yield advance
