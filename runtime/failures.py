"""One line for a failure the user can fix, the same in every process (CLI and worker).

A known failure (a user's mistake, a configuration that does not validate, an engine or a
store that cannot be reached) is reported as one line on stderr, scrubbed of this process's
secrets, with exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable

from pydantic import ValidationError

from runtime.errors import UserError
from runtime.redact import scrub

#: Exit code of a user's mistake (the contract's).
BAD_INPUT = 2


def process_secrets() -> list[str]:
    """The secret values of this process's configuration (none if it does not load)."""
    from runtime.settings import get_settings

    try:
        return get_settings().secret_values()
    except Exception:  # noqa: BLE001 - a bad configuration has its own one-line error
        return []


def scrubbed(message: object) -> str:
    """The message on one line, without any secret of this process (a library's error may
    quote a connection string)."""
    return scrub(" ".join(str(message).split()), process_secrets())


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


#: The failures known by their class, as (module, class). An instance of one exists only once its
#: module has been imported, so a module nobody imported is not imported here to look: a refused
#: argument is reported without loading Temporal's client or the database drivers.
MESSAGE_IS_THE_LINE = (
    ("store.application", "StoreConfigError"),
    ("runtime.connect", "EngineUnreachable"),
    ("runtime.connect", "ConnectionConfigError"),
    ("runtime.guard", "PayloadTooLarge"),
    ("runtime.codec", "CodecKeyError"),
)
STORE_FAILURES = (
    ("eventsourcing.persistence", "PersistenceError"),
    ("psycopg", "Error"),
)


def loaded_classes(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    """The classes named whose modules are loaded (the others cannot have instances)."""
    found: list[type[BaseException]] = []
    for module_name, class_name in names:
        module = sys.modules.get(module_name)
        kind = getattr(module, class_name, None) if module is not None else None
        if isinstance(kind, type) and issubclass(kind, BaseException):
            found.append(kind)
    return tuple(found)


def one_line(error: BaseException) -> str | None:
    """The line that reports a known failure; None for anything else (a bug)."""
    if isinstance(error, (UserError, *loaded_classes(MESSAGE_IS_THE_LINE))):
        return str(error)
    if isinstance(error, ValidationError) and error.title == "Settings":
        return configuration_error(error)
    if isinstance(error, (sqlite3.Error, *loaded_classes(STORE_FAILURES))):
        return store_error(error)
    return None


def run_reporting(main: Callable[[], None]) -> None:
    """Run a process's main; a known failure ends it with one line and exit code 2."""
    try:
        main()
    except KeyboardInterrupt:
        print("amity: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as error:
        line = one_line(error)
        if line is None:
            raise
        print(f"amity: {scrubbed(line)}", file=sys.stderr)
        raise SystemExit(BAD_INPUT) from None
