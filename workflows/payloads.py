"""What reaches PartnershipWorkflow and what it hands on: raw payloads turned into JSON data
or one-line reasons, signals waiting to be applied, and the input of the next run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue

from domain.limits import MAX_PAYLOAD_BYTES, too_large
from domain.parsing import InvalidInput
from domain.sealed import PLAINTEXT_REFUSED
from domain.state import CommandOutcome, PartnershipState

#: What a handler receives when the sender sent no payload at all.
NOTHING = RawValue(Payload())

T = TypeVar("T")


class PendingSignal(BaseModel):
    """A signal received but not yet applied (carried to the next run if need be)."""

    name: str
    data: Any = None
    error: str | None = None


class Carried(BaseModel):
    """Everything a run hands to the next one when it continues as new."""

    carried: PartnershipState
    applied: dict[str, CommandOutcome] = {}
    #: request_id -> `command:sha256` of its payload (workflows/requests.py); ids carried
    #: by runs from before fingerprints were kept have none.
    fingerprints: dict[str, str] = {}
    pending_signals: list[PendingSignal] = []
    runs: int = 1


def decode(raw: RawValue) -> Any:
    """A raw payload as plain JSON data (None when the sender sent nothing)."""
    if raw.payload is None or not raw.payload.metadata:
        return None
    if raw.payload.metadata.get("encoding") == PLAINTEXT_REFUSED:
        raise InvalidInput(raw.payload.data.decode(errors="replace"))
    try:
        return workflow.payload_converter().from_payload(raw.payload)
    except Exception:  # noqa: BLE001 - any undecodable payload is the sender's mistake
        raise InvalidInput("the payload must be one JSON object") from None


def oversize(name: str, raw: RawValue) -> str | None:
    """Why a payload is too large to record (naming its largest field), or None."""
    size = len(raw.payload.data) if raw.payload is not None else 0
    if size <= MAX_PAYLOAD_BYTES:
        return None
    try:
        data = workflow.payload_converter().from_payload(raw.payload)
    except Exception:  # noqa: BLE001 - the size is the reason; the field is a hint
        data = None
    return too_large(name, size, data)


def parse_printable(parse: Callable[[bool], T]) -> tuple[T, str | None]:
    """Parse refusing control characters (one parse when the input is fine). When only
    they are wrong: the lenient result and the reason, so the caller asks the
    printable-text patch only when it matters (runs from before it accepted such input).
    Any other mistake raises InvalidInput as the lenient parse says."""
    try:
        return parse(True), None
    except InvalidInput as strict:
        return parse(False), str(strict)
