"""Turn validation errors into the one-line reasons people and integrations see."""

from __future__ import annotations

from pydantic import ValidationError

#: A reason longer than this is cut: it is shown in UIs, CLIs and status.rejected.
MAX_REASON = 400


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif "[" in str(item) or "-" in str(item):
            # pydantic adds union/tagged-union markers such as 'function-after[...]'
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def one_line(error: ValidationError) -> str:
    """`field.sub: message; other: message` with no input echo and no URLs."""
    messages: list[str] = []
    for item in error.errors(include_url=False, include_input=False):
        loc = tuple(item.get("loc", ()))
        where = _location(loc)
        if item.get("type") == "extra_forbidden" and loc:
            # the last item is the unknown key itself: name it even if it looks like a marker
            head = _location(loc[:-1])
            where = f"{head}.{loc[-1]}" if head else str(loc[-1])
        message = str(item.get("msg", "invalid")).replace("Value error, ", "")
        if item.get("type") == "extra_forbidden":
            message = "unknown field"
        elif item.get("type") == "missing":
            message = "required field is missing"
        messages.append(f"{where}: {message}" if where else message)
    return shorten("; ".join(dict.fromkeys(messages)))


def shorten(text: str, limit: int = MAX_REASON) -> str:
    """One line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class IllegalEvent(ValueError):  # noqa: N818 - a public name others import
    """An event the rules do not allow in the current state (refused by the store)."""
