"""Signed checkpoints of the whole log, kept beside it, and the leaf hashes they witnessed.

`amity_checkpoints` holds every signed note in order; `amity_witness` holds the leaf hash
of every position a checkpoint covered. The signature makes the checkpoints trustworthy;
the witnessed leaves only help to say *where* the log changed (they are themselves checked
against the signed root before they are believed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.sql import Database
from store.application import PartnershipStore
from tlog import note
from tlog.merkle import HASH_SIZE, Tree


@dataclass(frozen=True)
class StoredCheckpoint:
    seq: int
    size: int
    note: str
    public_key: str
    created_at: str


class CheckpointTable:
    """The audit's own tables in the store's database."""

    def __init__(self, store: PartnershipStore, *, create: bool = True) -> None:
        """`create` off for readers: a store never checkpointed has no such tables, and a
        reader reads that as no checkpoints rather than creating them."""
        self.db = Database(store)
        if not create:
            self.present = all(
                self.db.has_table(name) for name in ("amity_checkpoints", "amity_witness")
            )
            return
        self.present = True
        self.db.create(
            "CREATE TABLE IF NOT EXISTS amity_checkpoints ("
            "seq INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL, note TEXT NOT NULL, "
            "public_key TEXT NOT NULL, created_at TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS amity_witness ("
            "position INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL)",
        )

    def all(self) -> list[StoredCheckpoint]:
        if not self.present:
            return []
        with self.db.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT seq, tree_size, note, public_key, created_at"
                " FROM amity_checkpoints ORDER BY seq"
            )
            return [StoredCheckpoint(*row) for row in cursor.fetchall()]

    def witnessed(self) -> bytearray:
        """Every witnessed leaf hash, concatenated in position order."""
        out = bytearray()
        if not self.present:
            return out
        with self.db.transaction(commit=False) as cursor:
            cursor.execute("SELECT position, leaf_hash FROM amity_witness ORDER BY position")
            for position, leaf in cursor.fetchall():
                if position * HASH_SIZE != len(out):
                    break  # a gap: what follows cannot be placed
                out += leaf
        return out

    def add(self, signed: str, size: int, public_key: str, tree: Tree, witnessed: int) -> int:
        """Store a checkpoint and the leaves it newly covers, in one transaction."""
        with self.db.transaction(commit=True) as cursor:
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM amity_checkpoints")
            row = cursor.fetchone()
            seq = int(row[0] if row else 0) + 1
            cursor.execute(
                "INSERT INTO amity_checkpoints VALUES (?, ?, ?, ?, ?)",
                (seq, size, signed, public_key, datetime.now(UTC).isoformat()),
            )
            cursor.executemany(
                "INSERT INTO amity_witness VALUES (?, ?)",
                [(position, tree.leaf(position)) for position in range(witnessed, size)],
            )
        return seq


@dataclass(frozen=True)
class NewCheckpoint:
    seq: int
    size: int
    root: bytes
    note: str
    public_key: str


def make_checkpoint(
    store: PartnershipStore, key: Ed25519PrivateKey, tree: Tree, name: str
) -> NewCheckpoint:
    """Sign the current tree as log `name` (the origin) and store it (the caller has checked
    the log only grew)."""
    table = CheckpointTable(store)
    size, root = tree.size, tree.root()
    signed = note.sign(note.body(name, size, root), name, key)
    public = note.verifier_key(name, key.public_key())
    witnessed = len(table.witnessed()) // HASH_SIZE
    seq = table.add(signed, size, public, tree, min(witnessed, size))
    return NewCheckpoint(seq, size, root, signed, public)
