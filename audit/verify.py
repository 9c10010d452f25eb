"""`audit verify`: recompute the Merkle tree of the whole log and hold it to every checkpoint.

Each stored checkpoint must carry a valid signature and be consistent with today's tree
(an RFC 9162 consistency proof from its size to the current size): the log only grew.
When it is not, the witnessed leaf hashes (trusted only if they reproduce the signed root)
name the first position that differs. The log's own shape is checked too: each
partnership's versions follow each other without gaps, in notification order.

Checkpoints kept outside the store (the witness's latest, an auditor's saved ones) are held
to the same rules: the store's writer can delete every stored checkpoint, not those. The
work per checkpoint is one consistency proof, O(log n) hashes on the tree already built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoints import CheckpointTable, StoredCheckpoint
from audit.log import leaves
from store.application import PartnershipStore
from tlog import note
from tlog.merkle import HASH_SIZE, Tree, verify_consistency

TrustedKey = tuple[str, Ed25519PublicKey]


@dataclass(frozen=True)
class Problem:
    """One discrepancy; `position` is the first log position it concerns, if known."""

    position: int | None
    message: str


@dataclass
class VerifyReport:
    size: int = 0
    root: bytes = b""
    checkpoints: int = 0
    covered: int = 0
    seconds: float = 0.0
    key_source: str = ""
    #: The most entries a valid checkpoint from outside the store covers.
    witnessed: int = 0
    #: The valid checkpoint covering the most entries (outside ones first on a tie).
    latest_note: str = ""
    problems: list[Problem] = field(default_factory=list)
    tree: Tree = field(default_factory=Tree, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        positions = [p.position for p in self.problems if p.position is not None]
        return min(positions) if positions else None


@dataclass
class _Walk:
    """What one pass over the log collects besides the tree."""

    tree: Tree = field(default_factory=Tree)
    notification_ids: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    last_version: dict[bytes, int] = field(default_factory=dict)

    def walk(
        self, store: PartnershipStore, batch: int, progress: Callable[[int], None] | None = None
    ) -> None:
        """The whole log, a batch at a time (reading and hashing every event is most of what
        `verify` does, so batches bound its memory, not its speed); `progress` hears how many
        entries are done after each batch."""
        last = self.last_version
        for found in leaves(store, batch):
            start = self.tree.size
            for offset, (_id, originator, version, _leaf) in enumerate(found):
                expected = last.get(originator, 0) + 1
                if version != expected:
                    self.problems.append(
                        Problem(
                            start + offset,
                            f"aggregate {UUID(bytes=originator)} has version {version}"
                            f" where {expected} was due",
                        )
                    )
                last[originator] = version
            self.notification_ids.extend([row[0] for row in found])
            self.tree.extend(b"".join([row[3] for row in found]))
            if progress is not None:
                progress(self.tree.size)


def describe(store: PartnershipStore, walk: _Walk, position: int) -> str:
    """`position 4 (notification 5: partnership-x version 5)` for a report line."""
    if position >= len(walk.notification_ids):
        return f"position {position} (missing: the log ends at {len(walk.notification_ids)})"
    notification_id = walk.notification_ids[position]
    found = store.recorder.select_notifications(start=notification_id, limit=1)
    if not found:
        return f"position {position} (notification {notification_id})"
    try:
        owner = json.loads(found[0].state).get("workflow_id", "?")
    except (ValueError, AttributeError):
        owner = "unreadable record"
    return (
        f"position {position} (notification {notification_id}:"
        f" {owner} version {found[0].originator_version})"
    )


@dataclass(frozen=True)
class Outside:
    """A checkpoint kept outside the store: `label` names where it came from."""

    label: str
    note: str


def _check_signature(
    checkpoint: StoredCheckpoint,
    parsed: note.Checkpoint,
    trusted: TrustedKey | None,
    origin: str | None,
) -> str | None:
    if origin is not None and parsed.origin != origin:
        return (
            f"checkpoint #{checkpoint.seq}: origin {parsed.origin!r} is not the expected {origin!r}"
        )
    name, public = trusted if trusted else note.parse_verifier_key(checkpoint.public_key)
    if not note.verify(parsed, name, public):
        return f"checkpoint #{checkpoint.seq}: signature does not verify with key {name}"
    if parsed.size != checkpoint.size:
        return f"checkpoint #{checkpoint.seq}: stored size {checkpoint.size} is not the signed size"
    return None


def _locate(tree: Tree, witnessed: bytearray, parsed: note.Checkpoint) -> int | None:
    """The first position whose leaf differs from the witnessed one, if the witness is true."""
    if len(witnessed) < parsed.size * HASH_SIZE:
        return None
    witness = Tree(
        bytes(witnessed[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i in range(parsed.size)
    )
    if witness.root() != parsed.root:
        return None
    for position in range(min(parsed.size, tree.size)):
        if tree.leaf(position) != witness.leaf(position):
            return position
    return tree.size if tree.size < parsed.size else None


def _check_outside(
    report: VerifyReport,
    found: Outside,
    trusted: TrustedKey | None,
    origin: str | None,
    witnessed: Callable[[], bytearray],
) -> None:
    """Hold the log to one checkpoint from outside the store (signature, then growth only)."""
    tree = report.tree
    try:
        parsed = note.parse(found.note)
    except note.NoteError as error:
        report.problems.append(Problem(None, f"{found.label}: {error}"))
        return
    if origin is not None and parsed.origin != origin:
        report.problems.append(
            Problem(None, f"{found.label}: origin {parsed.origin!r} is not the expected {origin!r}")
        )
        return
    if trusted is None or not note.verify(parsed, *trusted):
        name = trusted[0] if trusted else "(none)"
        report.problems.append(
            Problem(None, f"{found.label}: signature does not verify with the trusted key {name}")
        )
        return
    if parsed.size > tree.size:
        report.problems.append(
            Problem(
                tree.size,
                f"log truncated: {found.label} signed {parsed.size} entries,"
                f" the log has {tree.size}",
            )
        )
        return
    if parsed.size and not verify_consistency(
        parsed.size,
        tree.size,
        parsed.root,
        report.root,
        tree.consistency_proof(parsed.size, tree.size),
    ):
        position = _locate(tree, witnessed(), parsed)
        where = (
            "first difference here"
            if position is not None
            else f"somewhere before position {parsed.size}"
        )
        report.problems.append(
            Problem(
                position,
                f"the log was rewritten or forked: it is not consistent with {found.label}"
                f" (size {parsed.size}, root {parsed.root.hex()}): {where}",
            )
        )
        return
    if parsed.size >= report.covered:
        report.latest_note = found.note
    report.witnessed = max(report.witnessed, parsed.size)
    report.covered = max(report.covered, parsed.size)


def verify_store(
    store: PartnershipStore,
    trusted: TrustedKey | None = None,
    batch: int = 5_000,
    *,
    origin: str | None = None,
    outside: Sequence[Outside] = (),
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """The log against its stored checkpoints and any `outside` ones. Without a `trusted`
    key each stored checkpoint is checked with the key stored beside it (library callers;
    `amity audit verify` always passes a trusted key); with `origin`, every checkpoint
    must name it."""
    started = time.perf_counter()
    table = CheckpointTable(store, create=False)
    checkpoints = table.all()
    walk = _Walk()
    walk.walk(store, batch, progress)
    tree = walk.tree
    report = VerifyReport(size=tree.size, root=tree.root(), checkpoints=len(checkpoints), tree=tree)
    report.problems.extend(walk.problems)
    witnessed: bytearray | None = None
    for checkpoint in checkpoints:
        try:
            parsed = note.parse(checkpoint.note)
            bad_signature = _check_signature(checkpoint, parsed, trusted, origin)
        except note.NoteError as error:
            report.problems.append(Problem(None, f"checkpoint #{checkpoint.seq}: {error}"))
            continue
        if bad_signature:
            report.problems.append(Problem(None, bad_signature))
            continue
        if parsed.size == 0:
            continue
        if parsed.size > tree.size:
            report.problems.append(
                Problem(
                    tree.size,
                    f"log truncated: checkpoint #{checkpoint.seq} signed {parsed.size}"
                    f" entries, the log has {tree.size}",
                )
            )
            continue
        proof = tree.consistency_proof(parsed.size, tree.size)
        if verify_consistency(parsed.size, tree.size, parsed.root, report.root, proof):
            if parsed.size > report.covered:
                report.latest_note = checkpoint.note
            report.covered = max(report.covered, parsed.size)
            continue
        if witnessed is None:
            witnessed = table.witnessed()
        position = _locate(tree, witnessed, parsed)
        where = (
            f"somewhere before position {parsed.size} (the witnessed leaves were altered too)"
            if position is None
            else "first difference here"
        )
        report.problems.append(
            Problem(
                position,
                f"checkpoint #{checkpoint.seq} (size {parsed.size}) is not consistent with"
                f" the log: {where}",
            )
        )
    stored_leaves = witnessed

    def leaves_once() -> bytearray:
        """The stored leaf hashes, read only when a checkpoint disagrees (n rows)."""
        nonlocal stored_leaves
        if stored_leaves is None:
            stored_leaves = table.witnessed()
        return stored_leaves

    for found in outside:
        _check_outside(report, found, trusted, origin, leaves_once)
    report.problems.sort(key=lambda p: (p.position is None, p.position or 0))
    report.problems = [
        Problem(p.position, f"{describe(store, walk, p.position)}: {p.message}")
        if p.position is not None
        else p
        for p in report.problems
    ]
    report.key_source = "trusted key" if trusted else "keys stored beside the checkpoints"
    report.seconds = time.perf_counter() - started
    return report
