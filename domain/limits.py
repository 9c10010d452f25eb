"""How large one command may be, and the one-line reason when it is larger.

Temporal refuses payloads over 2 MiB, and an Update near that size cannot even be refused
cleanly: the worker echoes the request in its answer, the answer passes the limit and the
workflow task fails. So both the workflow and Amity's clients stop well below it.
"""

from __future__ import annotations

from typing import Any

#: The largest command payload (encoded JSON bytes) applied; the events that carry it,
#: with their envelope, must stay under Temporal's 2 MiB payload limit.
MAX_PAYLOAD_BYTES = 1_500_000


def too_large(name: str, size: int, data: Any) -> str | None:
    """Why a payload of `size` bytes is refused (naming its largest field), or None."""
    if size <= MAX_PAYLOAD_BYTES:
        return None
    largest = ""
    if isinstance(data, dict) and data:
        key = max(data, key=lambda k: len(str(data[k])))
        largest = f"{str(key)[:60]}: "
    return (
        f"{name}: {largest}too large: the payload is {size:,} bytes,"
        f" at most {MAX_PAYLOAD_BYTES:,} (send text_sha256 instead of a long text)"
    )


#: The largest working state a partnership carries from one workflow run to the next
#: (continue-as-new input, with the remembered request ids beside it, must stay under
#: Temporal's 2 MiB). The state keeps counts and recent records only (domain/state.py),
#: a few kilobytes however long the partnership lives; only commands near the largest a
#: person can send, of several kinds at once, come near it. The complete record is always
#: the event store.
MAX_STATE_BYTES = 1_100_000


def state_too_large(command: str, size: int) -> str | None:
    """Why a command is refused because the state it leads to is too large, or None."""
    if size <= MAX_STATE_BYTES:
        return None
    return (
        f"{command}: refused: the partnership's working state would grow to {size:,} bytes,"
        f" more than the {MAX_STATE_BYTES:,} a workflow carries; keep long participant"
        " lists and texts in a document and give its reference"
    )
