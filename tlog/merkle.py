"""The Merkle tree of RFC 6962 / RFC 9162 (section 2.1): hashes, proofs and their checks.

Leaves are `SHA-256(0x00 || data)`, interior nodes `SHA-256(0x01 || left || right)`, and a
tree of n leaves splits at the largest power of two below n. `Tree` is built leaf by leaf
(streaming: only complete subtrees are kept, 32 bytes each, in one bytearray per level),
so the root of any prefix, inclusion proofs and consistency proofs come from one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """An append-only Merkle tree; `levels[k]` holds every complete subtree of 2**k leaves."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.size = 0
        for leaf in leaf_hashes:
            self.append(leaf)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; complete the subtrees it closes (node_hash, inlined: this
        runs once per entry of the log)."""
        levels = self.levels
        levels[0] += leaf
        index = self.size
        self.size = index + 1
        level, node = 0, leaf
        while index & 1:
            start = (index - 1) * HASH_SIZE
            node = _sha256(b"\x01" + levels[level][start : start + HASH_SIZE] + node).digest()
            level += 1
            index >>= 1
            if len(levels) == level:
                levels.append(bytearray())
            levels[level] += node

    def extend(self, leaf_hashes: bytes) -> None:
        """Add many leaf hashes at once (concatenated): the same tree as appending them one
        by one, but each level's new nodes are hashed in one loop: verifying a whole log
        appends every leaf, and a Python call per leaf per level dominated that."""
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError("leaf hashes must be whole 32-byte hashes")
        levels = self.levels
        levels[0] += leaf_hashes
        self.size += len(leaf_hashes) // HASH_SIZE
        level = 0
        pair = 2 * HASH_SIZE
        while True:
            below = levels[level]
            if level + 1 == len(levels):
                if len(below) < pair:
                    return
                levels.append(bytearray())
            above = levels[level + 1]
            done, due = len(above) // HASH_SIZE, len(below) // pair
            if done == due:
                return
            span = bytes(below[done * pair : due * pair])
            above += b"".join(
                [_sha256(b"\x01" + span[i : i + pair]).digest() for i in range(0, len(span), pair)]
            )
            level += 1

    def leaf(self, index: int) -> bytes:
        return bytes(self.levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the tree's shape produces (end <= size)."""
        if not 0 <= start < end <= self.size:
            raise ValueError(f"no subtree [{start}, {end}) in a tree of {self.size}")
        width = end - start
        level = (width - 1).bit_length()
        if width == 1 << level and start % width == 0:
            index = start >> level
            return bytes(self.levels[level][index * HASH_SIZE : (index + 1) * HASH_SIZE])
        k = _split(width)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first `size` leaves (all by default)."""
        size = self.size if size is None else size
        if size == 0:
            return EMPTY_ROOT
        return self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 6962 section 2.1.1."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        proof: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                proof.append(self.subtree(start + k, end))
                end = start + k
            else:
                proof.append(self.subtree(start, start + k))
                start += k
        proof.reverse()
        return proof

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """PROOF(old_size, D[0:size]) of RFC 6962 section 2.1.2."""
        size = self.size if size is None else size
        if not 0 < old_size <= size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {size}")
        proof: list[bytes] = []
        self._subproof(old_size, 0, size, True, proof)
        return proof

    def _subproof(self, m: int, start: int, end: int, complete: bool, out: list[bytes]) -> None:
        n = end - start
        if m == n:
            if not complete:
                out.append(self.subtree(start, end))
            return
        k = _split(n)
        if m <= k:
            self._subproof(m, start, start + k, complete, out)
            out.append(self.subtree(start + k, end))
        else:
            self._subproof(m - k, start + k, end, False, out)
            out.append(self.subtree(start, start + k))


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2. A leaf that is not a 32-byte hash is refused outright: in a
    tree of one, an empty "leaf" would otherwise match an empty "root"."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, size: int, old_root: bytes, root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2. Two trees of one size are consistent only if their roots are
    equal, with no proof; the empty tree has one root, so two "empty" roots that are not that
    one are refused (transparency-dev refuses every check from size 0)."""
    if old_size == size:
        return not proof and old_root == root and (size > 0 or root == EMPTY_ROOT)
    if not 0 < old_size < size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == root
