"""JSON from people and programs (`--data`, FILE.json, stdin) read with limits, so a hostile
input is one refusal, never a traceback, a hung parser or a value Temporal cannot encode.

Python's `json` module accepts `NaN`/`Infinity` (not JSON; the payload converter later fails
on them), overflows `1e400` to infinity, recurses once per nesting level (a deep input
raises RecursionError) and refuses integers over 4,300 digits with a ValueError. Each of
those becomes an `InputRefused` with one line here.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: Larger than any command Amity accepts (domain/limits.py: 1.5 MB), even written with
#: `\uXXXX` escapes (up to 3 times longer), so an honest input over that limit is refused
#: by the payload guard, which names the field; anything larger is refused unread.
MAX_INPUT_BYTES = 8 * 1024 * 1024
#: Amity's payloads nest a few levels; 64 leaves room for `correct` objects and stays far
#: from Python's recursion limit.
MAX_DEPTH = 64

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class InputRefused(ValueError):  # noqa: N818 - reads as what happened
    """The input is not JSON Amity will read; the message is one line."""


def nesting_depth(text: str, stop_at: int) -> int:
    """The deepest bracket nesting of `text` outside strings (counting stops past `stop_at`)."""
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_at:
                    break
        else:
            depth -= 1
    return deepest


class _NotFinite:
    """Stands where the input had a number JSON cannot carry, until its place is known."""

    def __init__(self, message: str) -> None:
        self.message = message


def _place_of(value: Any, marker: _NotFinite) -> str:
    """Where `marker` sits in `value` (`correction.x`, `exchanges[2].date`); "" at the top."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        node, place = pending.pop()
        if node is marker:
            return place
        if isinstance(node, dict):
            pending.extend((v, f"{place}.{k}" if place else str(k)) for k, v in node.items())
        elif isinstance(node, list):
            pending.extend((v, f"{place}[{i}]") for i, v in enumerate(node))
    return ""


def parse_json(text: str, source: str) -> Any:
    """`text` as JSON within the limits, or InputRefused naming `source` and the reason."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_INPUT_BYTES:
        raise InputRefused(
            f"{source}: {size:,} bytes; at most {MAX_INPUT_BYTES:,} bytes are accepted"
        )
    if nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise InputRefused(f"{source}: nested deeper than {MAX_DEPTH} levels")
    refused: list[_NotFinite] = []

    def constant(name: str) -> _NotFinite:
        refused.append(
            _NotFinite(f"{name} is not a JSON number (only finite numbers are accepted)")
        )
        return refused[-1]

    def finite_float(text: str) -> float | _NotFinite:
        value = float(text)
        if math.isfinite(value):
            return value
        shown = f"{text[:20]}{'...' if len(text) > 20 else ''}"
        refused.append(_NotFinite(f"the number {shown} is too large"))
        return refused[-1]

    try:
        value = json.loads(text, parse_constant=constant, parse_float=finite_float)
    except json.JSONDecodeError as error:
        raise InputRefused(
            f"{source}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InputRefused(f"{source}: nested too deeply") from None
    except ValueError as error:
        # Python refuses to convert integers longer than sys.get_int_max_str_digits().
        if "digits" in str(error):
            raise InputRefused(f"{source}: a number has too many digits") from None
        raise InputRefused(f"{source}: {str(error).splitlines()[0]}") from None
    if refused:  # named by its place, as the model names a field it refuses
        place = _place_of(value, refused[0])
        raise InputRefused(f"{source}: {f'{place}: ' if place else ''}{refused[0].message}")
    return value


def parse_json_object(text: str, source: str) -> dict[str, Any]:
    value = parse_json(text, source)
    if not isinstance(value, dict):
        raise InputRefused(f"{source}: expected one JSON object, got {type(value).__name__}")
    return value
