"""What every `amity` command shares: one-line errors, exit codes, async bridging, output."""

from __future__ import annotations

import asyncio
import functools
import gc
import json
from collections.abc import Awaitable, Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from runtime.errors import UserError as UserError  # re-exported: every command raises it
from runtime.failures import one_line, scrubbed
from runtime.jsonin import MAX_INPUT_BYTES, InputRefused, parse_json_object
from runtime.textfile import FileRefused, read_text

#: Exit codes of the contract.
OK, DISCREPANCY, BAD_INPUT = 0, 1, 2

#: What an unreachable Temporal is told to do about it.
ENGINE_HINT = (
    "start the engine with `make up` (or `.venv/bin/amity up`), or set TEMPORAL_ADDRESS"
    " to where it runs"
)


class Format(StrEnum):
    """`--format`, the older spelling of `--json` (kept, hidden, so scripts keep working)."""

    table = "table"
    json = "json"


JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a summary")
]
FormatOption = Annotated[
    Format | None, typer.Option("--format", hidden=True, help="table or json (use --json)")
]


def wants_json(flag: bool, format: Format | None = None) -> bool:
    return flag or format is Format.json


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colours, no wrapping), for scripts."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str), flush=True)


def unreachable(error: BaseException) -> str:
    """An unreachable Temporal's line: the address tried, and how to get an engine there."""
    return f"{error}; {ENGINE_HINT}"


console = Console()
errors = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit; never a traceback for a user's mistake, never a
    secret (a library's error may quote a connection string)."""
    errors.print(f"amity: {scrubbed(message)}", markup=False)
    raise typer.Exit(code)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    finally:
        # A Temporal client lives in reference cycles; collected only at interpreter exit, its
        # Rust connection (a TLS one especially) tears down while Python finalizes and can
        # abort the process (PyGILState_Release). Collect it now, while Python is whole.
        gc.collect()


def friendly(func: Callable[P, T]) -> Callable[P, T]:
    """Turn known failures (runtime.failures) into one-line errors with the contract's exit
    codes."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            fail("interrupted", code=130)
        except Exception as error:
            from runtime.connect import EngineUnreachable

            line = one_line(error)
            if line is None:
                raise
            fail(unreachable(error) if isinstance(error, EngineUnreachable) else line)

    return wrapper


def read_json_object(path: Path | None = None, data: str | None = None) -> dict[str, Any]:
    """A JSON object from a file (or '-' for stdin) or an inline string, within the limits of
    runtime/jsonin.py (size, depth, finite numbers, digits); UserError otherwise."""
    if path is not None and data is not None:
        raise UserError("give either a FILE or --data, not both")
    if path is not None:
        source = str(path)
        text = _read_text(path)
    elif data is not None:
        source, text = "--data", data
    else:
        return {}
    try:
        return parse_json_object(text, source)
    except InputRefused as error:
        raise UserError(str(error)) from None


def _read_text(path: Path) -> str:
    """A file's (or stdin's) text, never more than the input limit plus one byte."""
    try:
        return read_text(path, MAX_INPUT_BYTES, "a JSON file")
    except FileRefused as error:
        raise UserError(str(error)) from None


async def gather_limited(jobs: list[Awaitable[T]], limit: int = 8) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))
