"""What every `amity` command shares: one-line errors, exit codes, async bridging, output."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

#: Exit codes of the contract.
OK, DISCREPANCY, BAD_INPUT = 0, 1, 2

console = Console()
errors = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
T = TypeVar("T")


class UserError(Exception):
    """A mistake of the user's (bad file, bad JSON, unknown id): exit 2 with this line."""


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit; never a traceback for a user's mistake."""
    line = " ".join(str(message).split())
    errors.print(f"amity: {line}", markup=False)
    raise typer.Exit(code)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def friendly(func: Callable[P, T]) -> Callable[P, T]:
    """Turn known failures into one-line errors with the contract's exit codes."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        from amity.codec import CodecKeyError
        from amity.connect import EngineUnreachable
        from amity.guard import PayloadTooLarge
        from domain.store import StoreConfigError

        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except (
            UserError,
            StoreConfigError,
            EngineUnreachable,
            PayloadTooLarge,
            CodecKeyError,
        ) as error:
            fail(str(error))
        except KeyboardInterrupt:
            fail("interrupted", code=130)

    return wrapper


def read_json_object(path: Path | None = None, data: str | None = None) -> dict[str, Any]:
    """A JSON object from a file (or '-' for stdin) or an inline string; UserError otherwise."""
    if path is not None and data is not None:
        raise UserError("give either a FILE or --data, not both")
    if path is not None:
        source = str(path)
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a directory, not a JSON file") from None
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text") from None
        except OSError as error:
            raise UserError(f"{path}: {error.strerror}") from None
    elif data is not None:
        source, text = "--data", data
    else:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    if not isinstance(value, dict):
        raise UserError(f"{source}: expected one JSON object, got {type(value).__name__}")
    return value


async def gather_limited(jobs: list[Awaitable[T]], limit: int = 8) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))
