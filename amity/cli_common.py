"""What every `amity` command shares: one-line errors, exit codes, async bridging, output."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from runtime.errors import UserError
from runtime.jsonin import MAX_INPUT_BYTES, InputRefused, parse_json_object
from runtime.redact import scrub

#: Exit codes of the contract.
OK, DISCREPANCY, BAD_INPUT = 0, 1, 2

console = Console()
errors = Console(stderr=True, highlight=False, soft_wrap=True)

P = ParamSpec("P")
T = TypeVar("T")


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit; never a traceback for a user's mistake, never a
    secret (a library's error may quote a connection string)."""
    line = scrub(" ".join(str(message).split()), process_secrets())
    errors.print(f"amity: {line}", markup=False)
    raise typer.Exit(code)


def process_secrets() -> list[str]:
    """The secret values of this process's configuration (none if it does not load)."""
    from runtime.settings import get_settings

    try:
        return get_settings().secret_values()
    except Exception:  # noqa: BLE001 - a bad configuration has its own one-line error
        return []


def configuration_error(error: ValidationError) -> str:
    """Settings that do not validate, as one line naming the variables (never their values:
    one of them may be a secret)."""
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or '?'}: {problem['msg']}"
        for problem in error.errors(include_input=False, include_url=False)
    ]
    return "configuration: " + "; ".join(problems)


def store_error(error: BaseException) -> str:
    """The event store could not be opened or read, naming it without its password."""
    from runtime.settings import get_settings

    try:
        where = get_settings().store_url_shown
    except Exception:  # noqa: BLE001 - the store error is the one to report
        where = "AMITY_EVENT_STORE_URL"
    text = str(error).strip().splitlines()
    return f"event store {where}: {text[0] if text else type(error).__name__}"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def friendly(func: Callable[P, T]) -> Callable[P, T]:
    """Turn known failures into one-line errors with the contract's exit codes."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        from eventsourcing.persistence import PersistenceError
        from psycopg import Error as PostgresError

        from activities.webhook import WebhookConfigError
        from runtime.codec import CodecKeyError
        from runtime.connect import EngineUnreachable
        from runtime.guard import PayloadTooLarge
        from store.application import StoreConfigError

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
            WebhookConfigError,
        ) as error:
            fail(str(error))
        except ValidationError as error:
            if error.title != "Settings":
                raise
            fail(configuration_error(error))
        except (PersistenceError, PostgresError, sqlite3.Error) as error:
            fail(store_error(error))
        except KeyboardInterrupt:
            fail("interrupted", code=130)

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
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with path.open("rb") as stream:
                raw = stream.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a JSON file") from None
    except OSError as error:
        raise UserError(f"{path}: {error.strerror}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise UserError(f"{path}: too large; at most {MAX_INPUT_BYTES:,} bytes are accepted")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None


async def gather_limited(jobs: list[Awaitable[T]], limit: int = 8) -> list[T]:
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))
