"""What a witness accepts: the C2SP `tlog-witness` rule, as pure functions.

A witness remembers one log (one origin). It pins the verifier key of the first checkpoint
it is given; from then on it accepts a checkpoint only when that key signed it, its origin
is the log's, and it comes with the size the sender believes the witness holds and an
RFC 9162 consistency proof from that size (the same size must carry the same root). So a
log that was rewritten, truncated or forked since the witness last saw it is refused, and
whoever writes the store cannot make the witness forget: it lives in another system.

These functions run inside the `CheckpointWitness` workflow (deterministic, no I/O) and in
`audit verify` (which holds the log to the witness's latest checkpoint).
"""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel

from tlog import note
from tlog.merkle import HASH_SIZE, verify_consistency

WORKFLOW_TYPE = "CheckpointWitness"
UPDATE = "add_checkpoint"
QUERY = "latest"
#: The scheduled checkpoint: a workflow running one activity (sign, store, publish).
CHECKPOINT_WORKFLOW = "CheckpointLog"
CHECKPOINT_ACTIVITY = "checkpoint_log"


class CheckpointResult(BaseModel):
    """What the scheduled checkpoint activity returns to the `CheckpointLog` workflow."""

    seq: int
    size: int
    fresh: bool
    witnessed: int  # the size the witness holds afterwards
    note: str


def schedule_id(origin: str) -> str:
    return f"amity-checkpoint-{origin}"


def witness_id(origin: str) -> str:
    """One witness workflow per log: `amity-witness-<origin>`."""
    return f"amity-witness-{origin}"


class WitnessState(BaseModel):
    """What a witness holds: bounded (the latest checkpoint, never the whole list)."""

    origin: str
    key: str  # the verifier key pinned at the first checkpoint
    note: str  # the latest accepted checkpoint (a signed note)
    size: int
    count: int  # checkpoints accepted since the first, across runs


class WitnessStart(BaseModel):
    """The workflow's input: its log, and what an earlier run handed over."""

    origin: str
    state: WitnessState | None = None


class AddCheckpoint(BaseModel):
    """tlog-witness's add-checkpoint request: old size, consistency proof, new checkpoint."""

    checkpoint: str
    old_size: int
    proof: list[str] = []  # base64 hashes, RFC 9162 PROOF(old_size, new tree)
    key: str | None = None  # the verifier key; needed (and pinned) on the first checkpoint


def _proof(request: AddCheckpoint) -> list[bytes] | str:
    hashes = []
    for item in request.proof:
        try:
            value = base64.b64decode(item, validate=True)
        except binascii.Error:
            return "the consistency proof is not base64"
        if len(value) != HASH_SIZE:
            return "the consistency proof holds a hash that is not 32 bytes"
        hashes.append(value)
    return hashes


def refusal(origin: str, state: WitnessState | None, request: AddCheckpoint) -> str | None:
    """Why this checkpoint must be refused (one line), or None to accept it."""
    try:
        parsed = note.parse(request.checkpoint)
    except note.NoteError as error:
        return f"not a checkpoint: {error}"
    if parsed.origin != origin:
        return f"the checkpoint is for {parsed.origin!r}, this witness is for {origin!r}"
    key = state.key if state else request.key
    if not key:
        return "the first checkpoint must come with its verifier key (it is pinned)"
    try:
        name, public = note.parse_verifier_key(key)
    except note.NoteError as error:
        return str(error)
    if name != origin:
        return f"the verifier key is named {name!r}, not after the log {origin!r}"
    if not note.verify(parsed, name, public):
        return f"the signature does not verify with the pinned key {key}"
    held = state.size if state else 0
    if request.old_size != held:
        return f"old size {request.old_size} is not the size this witness holds ({held})"
    if parsed.size < held:
        return f"the checkpoint's size {parsed.size} is smaller than the witnessed {held}"
    proof = _proof(request)
    if isinstance(proof, str):
        return proof
    if state is None or held == 0:
        return None if not proof else "a first checkpoint takes no consistency proof"
    old = note.parse(state.note)
    if not verify_consistency(held, parsed.size, old.root, parsed.root, proof):
        return (
            f"not consistent with the witnessed checkpoint of size {held}: the proof from"
            f" {held} to {parsed.size} does not verify (the log was rewritten or forked)"
        )
    return None


def accept(origin: str, state: WitnessState | None, request: AddCheckpoint) -> WitnessState:
    """The state after a checkpoint `refusal` found nothing against."""
    parsed = note.parse(request.checkpoint)
    return WitnessState(
        origin=origin,
        key=state.key if state else str(request.key),
        note=request.checkpoint,
        size=parsed.size,
        count=(state.count if state else 0) + 1,
    )
