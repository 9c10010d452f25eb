"""Making a checkpoint: check the log against its earlier checkpoints, then sign and store.

Shared by `amity audit checkpoint` and the scheduled `checkpoint_log` activity, so both
refuse to sign a log that is not consistent with what was signed before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import CheckpointTable, make_checkpoint
from audit.verify import verify_store
from store.application import PartnershipStore
from tlog.merkle import Tree


class NotConsistent(Exception):  # noqa: N818 - reads as the situation it names
    """The log disagrees with its earlier checkpoints; `problems` says where."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "the log is not consistent")
        self.problems = problems


@dataclass(frozen=True)
class Signed:
    """The checkpoint that covers the whole log now (`fresh`: made by this call)."""

    seq: int
    size: int
    root: bytes
    note: str
    public_key: str
    tree: Tree
    fresh: bool


def checkpoint_log(
    store: PartnershipStore,
    key: Ed25519PrivateKey,
    name: str,
    progress: Callable[[int], None] | None = None,
) -> Signed:
    """A checkpoint of the whole log `name` (its origin): the stored one if it already
    covers every entry. `progress` hears how many entries the check has read."""
    report = verify_store(store, (name, key.public_key()), origin=name, progress=progress)
    if not report.ok:
        raise NotConsistent([problem.message for problem in report.problems])
    stored = CheckpointTable(store).all()
    if stored and stored[-1].size == report.size:
        last = stored[-1]
        return Signed(
            last.seq, last.size, report.root, last.note, last.public_key, report.tree, False
        )
    made = make_checkpoint(store, key, report.tree, name)
    return Signed(made.seq, made.size, made.root, made.note, made.public_key, report.tree, True)
