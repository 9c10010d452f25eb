"""The Merkle tree of RFC 6962 / RFC 9162 (section 2.1): hashes, proofs and their checks.

Leaves are `SHA-256(0x00 || data)`, interior nodes `SHA-256(0x01 || left || right)`, and a
tree of n leaves splits at the largest power of two below n. `Tree` is built leaf by leaf
(streaming: only complete subtrees are kept, 32 bytes each, in one bytearray per level),
so the root of any prefix, inclusion proofs and consistency proofs come from one pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from operator import methodcaller

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = hashlib.sha256(b"").digest()


_digest = methodcaller("digest")
_NODE = b"\x01"


def pair_hashes(span: bytes) -> bytes:
    """node_hash of each 64-byte pair of `span` (concatenated), with no Python code per pair:
    slicing, prefixing, hashing and joining all run as C loops."""
    pair = 2 * HASH_SIZE
    if len(span) % pair:
        raise ValueError("a span of node pairs must be whole 64-byte pairs")
    cuts = map(slice, range(0, len(span), pair), range(pair, len(span) + 1, pair))
    return b"".join(map(_digest, map(_sha256, map(_NODE.__add__, map(span.__getitem__, cuts)))))


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Tree:
    """An append-only Merkle tree; `levels[k]` holds every complete subtree of 2**k leaves.

    A tree resumed from a frontier (`from_frontier`) keeps nothing left of it: `offsets[k]`
    nodes of level k are not held (asking for one raises ValueError). Everything the
    tree's growth, its roots and its consistency proofs from any size at or above the
    frontier's need is held: the frontier's subtrees and the nodes added since."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        self.offsets: list[int] = [0]
        self.size = 0
        for leaf in leaf_hashes:
            self.append(leaf)

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> Tree:
        """The tree of `size` leaves known only by its frontier: the roots of the perfect
        subtrees `size` splits into, largest first (what `frontier(size)` returns)."""
        bits = [level for level in range(size.bit_length()) if size >> level & 1]
        if len(frontier) != len(bits) or any(len(h) != HASH_SIZE for h in frontier):
            raise ValueError(f"a frontier of {size} leaves has {len(bits)} hashes")
        tree = cls()
        tree.size = size
        depth = max(size.bit_length(), 1)
        tree.levels = [bytearray() for _ in range(depth)]
        tree.offsets = [(size >> level) - (size >> level & 1) for level in range(depth)]
        for level, node in zip(reversed(bits), frontier, strict=True):
            tree.levels[level] += node
        return tree

    def frontier(self, size: int | None = None) -> list[bytes]:
        """The roots of the perfect subtrees the first `size` leaves split into, largest
        first: all a later verifier needs to go on from `size` (`from_frontier`)."""
        size = self.size if size is None else size
        out, start = [], 0
        for level in reversed(range(size.bit_length())):
            if size >> level & 1:
                out.append(self.subtree(start, start + (1 << level)))
                start += 1 << level
        return out

    def _level(self, level: int) -> bytearray:
        if len(self.levels) == level:
            self.levels.append(bytearray())
            self.offsets.append(0)  # above a frontier's top: nothing left of it
        return self.levels[level]

    def _node(self, level: int, index: int) -> bytes:
        # Every level up to the size's bit length exists (`from_frontier` makes them all,
        # `extend` adds each as its first node is due), so only a resumed tree's early
        # nodes, below its offsets, can be missing.
        at = index - self.offsets[level]
        if at < 0:
            raise ValueError(f"node {index} of level {level} is not kept (resumed tree)")
        return bytes(self.levels[level][at * HASH_SIZE : (at + 1) * HASH_SIZE])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; complete the subtrees it closes."""
        self.extend(leaf)

    def extend(self, leaf_hashes: bytes) -> None:
        """Add many leaf hashes at once (concatenated): the same tree as appending them one
        by one, but each level's new nodes are hashed in one pass of C loops (`map` over
        hashlib): verifying a whole log appends every leaf, and a Python call per node
        dominated that."""
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError("leaf hashes must be whole 32-byte hashes")
        levels, offsets = self.levels, self.offsets
        levels[0] += leaf_hashes
        self.size += len(leaf_hashes) // HASH_SIZE
        level = 0
        while True:
            below = levels[level]
            total = offsets[level] + len(below) // HASH_SIZE
            if total < 2:
                return
            above = self._level(level + 1)
            done, due = offsets[level + 1] + len(above) // HASH_SIZE, total // 2
            if done == due:
                return
            first = 2 * done - offsets[level]
            span = bytes(below[first * HASH_SIZE : (2 * due - offsets[level]) * HASH_SIZE])
            above += pair_hashes(span)
            level += 1

    def leaf(self, index: int) -> bytes:
        return self._node(0, index)

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the tree's shape produces (end <= size)."""
        if not 0 <= start < end <= self.size:
            raise ValueError(f"no subtree [{start}, {end}) in a tree of {self.size}")
        width = end - start
        level = (width - 1).bit_length()
        if width == 1 << level and start % width == 0:
            return self._node(level, start >> level)
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
