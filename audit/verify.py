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
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.checkpoints import CheckpointTable, StoredCheckpoint
from audit.log import leaves, versions_before
from audit.tree_helper import HelperTree
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
    #: The size of the saved tree state this verify went on from (0: the whole log).
    resumed_from: int = 0
    #: Checkpoints older than that state: signatures checked, consistency taken as known.
    before_state: int = 0
    #: The tree state at `latest_note` (for the next verify to go on from), when it verifies.
    state: TreeState | None = field(default=None, repr=False)
    #: Where the leaves and the tree were hashed ("a helper process", "this process").
    tree_hashing: str = "this process"

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_position(self) -> int | None:
        positions = [p.position for p in self.problems if p.position is not None]
        return min(positions) if positions else None


class StateError(ValueError):
    """A saved tree state that cannot be used (unreadable, or not its checkpoint's tree)."""


@dataclass(frozen=True)
class TreeState:
    """What a later verify needs to go on from a verified checkpoint instead of rehashing
    the log: the checkpoint (signed: the anchor), the roots of the perfect subtrees its
    size splits into (log2 n hashes, checked against the signed root before use), and the
    last entry it covers (notification id and leaf hash, checked against the store)."""

    note: str
    size: int
    frontier: tuple[bytes, ...]
    last_notification_id: int
    last_leaf: bytes

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": STATE_FORMAT,
                "checkpoint": self.note,
                "size": self.size,
                "frontier": [h.hex() for h in self.frontier],
                "last_notification_id": self.last_notification_id,
                "last_leaf": self.last_leaf.hex(),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> TreeState:
        try:
            data = json.loads(text)
            if data.get("format") != STATE_FORMAT:
                raise StateError(f"not a tree state of format {STATE_FORMAT}")
            state = cls(
                note=str(data["checkpoint"]),
                size=int(data["size"]),
                frontier=tuple(bytes.fromhex(h) for h in data["frontier"]),
                last_notification_id=int(data["last_notification_id"]),
                last_leaf=bytes.fromhex(data["last_leaf"]),
            )
        except StateError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise StateError(f"unreadable tree state: {error}") from None
        if state.size < 1 or len(state.last_leaf) != HASH_SIZE:
            raise StateError("unreadable tree state: no entries or a bad leaf hash")
        return state


STATE_FORMAT = "amity-verify-state/1"


def _anchor(state: TreeState, trusted: TrustedKey | None, origin: str | None) -> Tree:
    """The tree of the state's checkpoint, rebuilt from its frontier; only if the
    checkpoint verifies with the trusted key and the frontier gives its signed root."""
    if trusted is None:
        raise StateError("going on from a saved tree state needs a trusted key")
    try:
        parsed = note.parse(state.note)
    except note.NoteError as error:
        raise StateError(f"the saved tree state's checkpoint: {error}") from None
    if origin is not None and parsed.origin != origin:
        raise StateError(f"the saved tree state is of log {parsed.origin!r}, not {origin!r}")
    if not note.verify(parsed, *trusted):
        raise StateError("the saved tree state's checkpoint does not verify with the trusted key")
    if parsed.size != state.size:
        raise StateError("the saved tree state's size is not its checkpoint's")
    try:
        tree = Tree.from_frontier(state.size, state.frontier)
    except ValueError as error:
        raise StateError(f"the saved tree state: {error}") from None
    if tree.root() != parsed.root:
        raise StateError("the saved tree state's hashes do not give its checkpoint's root")
    return tree


def _boundary_changed(store: PartnershipStore, state: TreeState) -> bool:
    """Whether the last entry the state covers is no longer what it was (or is gone)."""
    for found in leaves(store, 1, state.last_notification_id - 1):
        return found.notification_ids[0] != state.last_notification_id or (
            found.hashes != state.last_leaf
        )
    return True


def _state_at(walk: _Walk, report: VerifyReport, since: TreeState | None) -> TreeState | None:
    """The tree state at the latest valid checkpoint, for the next verify."""
    if not report.latest_note:
        return None
    size = note.parse(report.latest_note).size
    if since is not None and size == since.size:
        return since
    if size <= walk.base:
        return None
    last = walk.notification_id(size - 1)
    if last is None:
        return None
    tree = walk.tree
    return TreeState(
        report.latest_note, size, tuple(tree.frontier(size)), last, tree.leaf(size - 1)
    )


@dataclass
class _Walk:
    """What one pass over the log collects besides the tree."""

    tree: Tree = field(default_factory=Tree)
    #: Notification ids of the positions walked (from `tree`'s size when the walk began).
    notification_ids: list[int] = field(default_factory=list)
    base: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_version: dict[bytes, int] = field(default_factory=dict)
    #: Where the leaves and the tree were hashed.
    tree_hashing: str = "this process"

    def walk(
        self,
        store: PartnershipStore,
        batch: int,
        progress: Callable[[int], None] | None = None,
        after: int = 0,
        helper: bool = False,
    ) -> None:
        """The log after notification `after` (the whole log by default), a batch at a time
        (reading and hashing every event is most of what `verify` does, so batches bound
        its memory, not its speed); `progress` hears how many entries are done after each
        batch. Resuming (`after` > 0), the versions each partnership reached before it are
        looked up in the store for the partnerships the new entries concern. With `helper`
        (and a tree of no leaves yet), the leaves and the tree are hashed by a second
        process while this one reads (audit/tree_helper.py); should it fail, the log is
        walked again here."""
        self.base = self.tree.size
        if helper and self.tree.size == 0:
            helped = HelperTree(inputs=True)
            try:
                self._walk(store, batch, progress, after, helped)
                tree = helped.finish()
            except BaseException:
                helped.close()
                raise
            if tree is not None:
                self.tree = tree
                self.tree_hashing = "a helper process"
                return
            # The helper failed (it had the leaf inputs, not kept here): walk again, here.
            self.tree_hashing = f"this process ({helped.fallback})"
            self.notification_ids.clear()
            self.problems.clear()
            self.last_version.clear()
        self._walk(store, batch, progress, after, self.tree)

    def _walk(
        self,
        store: PartnershipStore,
        batch: int,
        progress: Callable[[int], None] | None,
        after: int,
        builder: Tree | HelperTree,
    ) -> None:
        last = self.last_version
        helped = isinstance(builder, HelperTree)
        for found in leaves(store, batch, after, hashed=not helped):
            start = builder.size
            if after:
                unseen = set(found.originators).difference(last)
                if unseen:
                    last.update(dict.fromkeys(unseen, 0))
                    last.update(versions_before(store, unseen, after))
            get = last.get
            for offset, originator, version in zip(
                count(), found.originators, found.versions, strict=False
            ):
                if get(originator, 0) + 1 != version:
                    self._gap(start + offset, originator, version, get(originator, 0) + 1)
                last[originator] = version
            self.notification_ids.extend(found.notification_ids)
            if isinstance(builder, HelperTree):
                builder.extend_inputs(found.inputs, found.sizes)
            else:
                builder.extend(found.hashes)
            if progress is not None:
                progress(builder.size)

    def _gap(self, position: int, originator: bytes, version: int, expected: int) -> None:
        self.problems.append(
            Problem(
                position,
                f"aggregate {UUID(bytes=originator)} has version {version}"
                f" where {expected} was due",
            )
        )

    def notification_id(self, position: int) -> int | None:
        index = position - self.base
        return self.notification_ids[index] if 0 <= index < len(self.notification_ids) else None


def describe(store: PartnershipStore, walk: _Walk, position: int) -> str:
    """`position 4 (notification 5: partnership-x version 5)` for a report line."""
    if position >= walk.tree.size:
        return f"position {position} (missing: the log ends at {walk.tree.size})"
    notification_id = walk.notification_id(position)
    if notification_id is None:
        return f"position {position} (before the saved tree state)"
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
    # A tree resumed from a saved state holds no leaves before its frontier's last one:
    # those were verified when the state was saved.
    for position in range(tree.offsets[0], min(parsed.size, tree.size)):
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
    if parsed.size < report.resumed_from:
        report.before_state += 1
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


#: From this many entries a full verify hashes the tree in a helper process: starting one
#: costs tens of milliseconds, which a log this size repays several times over.
HELPER_FROM = 50_000


def _worth_a_helper(store: PartnershipStore) -> bool:
    if (store.recorder.max_notification_id() or 0) < HELPER_FROM:
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (len(cores) if cores is not None else os.cpu_count() or 1) > 1


def verify_store(
    store: PartnershipStore,
    trusted: TrustedKey | None = None,
    batch: int = 5_000,
    *,
    origin: str | None = None,
    outside: Sequence[Outside] = (),
    progress: Callable[[int], None] | None = None,
    since: TreeState | None = None,
    helper: bool | None = None,
) -> VerifyReport:
    """The log against its stored checkpoints and any `outside` ones. Without a `trusted`
    key each stored checkpoint is checked with the key stored beside it (library callers;
    `amity audit verify` always passes a trusted key); with `origin`, every checkpoint
    must name it.

    With `since` (a state an earlier verify saved, `report.state`), only the entries after
    its checkpoint are read and hashed, the tree going on from the state's frontier: the
    work is O(new entries + log n). What that trusts: that the entries the state's
    checkpoint covers are the ones verified when it was saved (a rewrite of them is caught
    only by a full verify, or by checkpoints that are not consistent with the new tree),
    and so checkpoints older than the state are not checked for consistency again.

    `helper`: hash the leaves and the tree in a second process (audit/tree_helper.py),
    by default when the whole log is walked, it has HELPER_FROM entries or more and this
    process may run on more than one core."""
    started = time.perf_counter()
    table = CheckpointTable(store, create=False)
    checkpoints = table.all()
    walk = _Walk()
    resumed_problems: list[Problem] = []
    if since is not None:
        walk.tree = _anchor(since, trusted, origin)
        if _boundary_changed(store, since):
            resumed_problems.append(
                Problem(
                    since.size - 1,
                    f"the last entry of the saved tree state (notification"
                    f" {since.last_notification_id}) changed or is gone",
                )
            )
    if helper is None:
        helper = since is None and _worth_a_helper(store)
    walk.walk(
        store, batch, progress, after=since.last_notification_id if since else 0, helper=helper
    )
    tree = walk.tree
    report = VerifyReport(
        size=tree.size,
        root=tree.root(),
        checkpoints=len(checkpoints),
        tree=tree,
        tree_hashing=walk.tree_hashing,
    )
    if since is not None:
        report.resumed_from = report.covered = since.size
        report.latest_note = since.note
    report.problems.extend(resumed_problems)
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
        if parsed.size < report.resumed_from:
            report.before_state += 1
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
    if report.ok:
        report.state = _state_at(walk, report, since)
    report.seconds = time.perf_counter() - started
    return report
