"""The Merkle tree and its proofs: against the RFC 6962 known answers published by
transparency-dev/merkle (tests/audit/vectors/rfc6962.json, byte for byte), against pymerkle (an
independent RFC 9162 implementation) on random trees, and against the RFC's recursive
definition for many sizes."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pymerkle
import pytest

from tlog.merkle import (
    EMPTY_ROOT,
    Tree,
    leaf_hash,
    node_hash,
    pair_hashes,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "rfc6962.json").read_text(encoding="utf-8")
)


def published_tree() -> tuple[list[bytes], Tree]:
    inputs = [bytes.fromhex(text) for text in VECTORS["leaf_inputs"]]
    return inputs, Tree(leaf_hash(data) for data in inputs)


def test_the_published_hashes_leaves_nodes_and_roots() -> None:
    for case in VECTORS["hasher"]:
        if case.get("empty_root"):
            got = EMPTY_ROOT
        elif "leaf" in case:
            got = leaf_hash(bytes.fromhex(case["leaf"]))
        else:
            got = node_hash(bytes.fromhex(case["left"]), bytes.fromhex(case["right"]))
        assert got.hex() == case["want"], case["desc"]
    inputs, tree = published_tree()
    assert len(inputs) == 8
    # every complete subtree: level k holds the nodes over 2**k leaves
    for level, nodes in enumerate(VECTORS["node_hashes"]):
        width = 1 << level
        for index, node in enumerate(nodes):
            assert tree.subtree(index * width, (index + 1) * width).hex() == node
    assert [tree.root(n).hex() for n in range(9)] == VECTORS["root_hashes"]
    for n, root in enumerate(VECTORS["root_hashes"]):
        assert Tree(leaf_hash(data) for data in inputs[:n]).root().hex() == root


def test_the_published_inclusion_probes() -> None:
    """Each probe says whether transparency-dev's verifier accepts it (the happy paths) or not
    (a bit flipped, a hash added or removed, the index or size changed, a wrong root ...)."""
    _, tree = published_tree()
    probes = VECTORS["inclusion_probes"]
    assert len(probes) == 98
    for probe in probes:
        proof = [bytes.fromhex(node) for node in probe["proof"]]
        index, size = probe["leafIdx"], probe["treeSize"]
        leaf, root = bytes.fromhex(probe["leafHash"]), bytes.fromhex(probe["root"])
        assert verify_inclusion(index, size, leaf, proof, root) is not probe["wantErr"], probe
        if not probe["wantErr"] and size <= 8 and root == tree.root(size):
            assert tree.inclusion_proof(index, size) == proof, probe  # built, not just checked
    happy = [p for p in probes if not p["wantErr"]]
    assert {(p["leafIdx"], p["treeSize"]) for p in happy} >= {(0, 8), (5, 8), (2, 3), (1, 5)}


def test_the_published_consistency_probes() -> None:
    _, tree = published_tree()
    probes = VECTORS["consistency_probes"]
    assert len(probes) == 98
    built = 0
    for probe in probes:
        proof = [bytes.fromhex(node) for node in probe["proof"]]
        m, n = probe["size1"], probe["size2"]
        old, new = bytes.fromhex(probe["root1"]), bytes.fromhex(probe["root2"])
        assert verify_consistency(m, n, old, new, proof) is not probe["wantErr"], probe
        if not probe["wantErr"] and 0 < m <= n <= 8 and new == tree.root(n):
            assert tree.consistency_proof(m, n) == proof, probe
            built += 1
    assert built >= 4  # 1 -> 8, 6 -> 8, 2 -> 5, 6 -> 7


def _valid_subtree(start: int, end: int) -> bool:
    width = end - start
    return start == 0 or width == 0 or start % (1 << (width - 1).bit_length()) == 0


def test_every_subtree_and_its_inclusion_proofs_up_to_130_leaves() -> None:
    """The digests of the draft-ietf-plants-merkle-tree-certs appendix, as transparency-dev
    checks them: one SHA-256 over the hash of every valid subtree of a 130-leaf tree, and one
    over every inclusion proof inside each of them (for subtrees starting at 0: the RFC 6962
    inclusion proof in every tree of 1 to 130 leaves)."""
    digests = VECTORS["subtree_digests"]
    leaves = [leaf_hash(bytes([i])) for i in range(130)]
    tree = Tree(leaves)
    hashes, proofs = hashlib.sha256(), hashlib.sha256()
    for end in range(131):
        for start in range(end + 1):
            if not _valid_subtree(start, end):
                continue
            node = tree.subtree(start, end) if end > start else EMPTY_ROOT
            hashes.update(f"[{start}, {end}) {node.hex()}\n".encode())
            inner = tree if start == 0 else Tree(leaves[start:end])
            for index in range(start, end):
                path = inner.inclusion_proof(index - start, end - start)
                line = f"{index} [{start}, {end})" + "".join(f" {p.hex()}" for p in path)
                proofs.update(f"{line}\n".encode())
    assert hashes.hexdigest() == digests["hashes"]["sha256"]
    assert proofs.hexdigest() == digests["inclusion"]["sha256"]


def test_pymerkle_builds_the_same_roots_and_inclusion_proofs() -> None:
    """pymerkle, written apart from this code, on random trees of random entries: the same
    root for every size, the same inclusion path (pymerkle lists the leaf first), and its
    consistency proofs (another layout than RFC 6962's) accept our roots."""
    rng = random.Random(6962)
    for _ in range(4):
        entries = [rng.randbytes(rng.randrange(0, 64)) for _ in range(rng.randrange(1, 80))]
        theirs = pymerkle.InmemoryTree(algorithm="sha256")
        for entry in entries:
            theirs.append_entry(entry)
        ours = Tree(leaf_hash(entry) for entry in entries)
        total = len(entries)
        assert theirs.get_root(0) == ours.root(0) == EMPTY_ROOT
        for n in range(1, total + 1):
            assert theirs.get_root(n) == ours.root(n), n
        for _ in range(40):
            n = rng.randrange(1, total + 1)
            i = rng.randrange(n)
            path = theirs.prove_inclusion(i + 1, n).path  # pymerkle counts leaves from 1
            assert path == [ours.leaf(i), *ours.inclusion_proof(i, n)], (i, n)
            m = rng.randrange(1, n + 1)
            theirs.prove_consistency(m, n).verify(ours.root(m), ours.root(n))
            assert verify_consistency(
                m, n, ours.root(m), ours.root(n), ours.consistency_proof(m, n)
            )
            if m < n:
                with pytest.raises(pymerkle.InvalidProof):
                    theirs.prove_consistency(m, n).verify(leaf_hash(b"forged"), ours.root(n))


def naive_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


LEAVES = [leaf_hash(str(i).encode()) for i in range(70)]


def test_roots_match_the_definition() -> None:
    tree = Tree()
    assert tree.root() == EMPTY_ROOT
    for n, leaf in enumerate(LEAVES, start=1):
        tree.append(leaf)
        assert tree.root() == naive_root(LEAVES[:n])
    for m in range(1, 71):
        assert tree.root(m) == naive_root(LEAVES[:m])


def test_inclusion_proofs_verify_and_detect_a_wrong_leaf() -> None:
    tree = Tree(LEAVES)
    for n in (1, 2, 3, 7, 8, 9, 31, 64, 70):
        root = tree.root(n)
        for i in range(n):
            proof = tree.inclusion_proof(i, n)
            assert verify_inclusion(i, n, LEAVES[i], proof, root)
            assert not verify_inclusion(i, n, leaf_hash(b"forged"), proof, root)
            if n > 1:
                assert not verify_inclusion((i + 1) % n, n, LEAVES[i], proof, root)


def test_consistency_proofs_verify_and_detect_a_rewrite() -> None:
    tree = Tree(LEAVES)
    for n in range(1, 71):
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, tree.root(m), tree.root(n), proof), (m, n)
            if m < n:
                assert not verify_consistency(m, n, leaf_hash(b"x"), tree.root(n), proof)
    rewritten = Tree([*LEAVES[:5], leaf_hash(b"forged"), *LEAVES[6:]])
    proof = rewritten.consistency_proof(8, 70)
    assert not verify_consistency(8, 70, tree.root(8), rewritten.root(70), proof)


def test_extend_builds_the_same_tree_as_appending_one_by_one() -> None:
    import hashlib

    from tlog.merkle import Tree

    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(1, 300)]
    for cut in (0, 1, 2, 3, 7, 64, 100, 255, 299):
        one_by_one = Tree(hashes)
        batched = Tree(hashes[:cut])
        middle = max(cut, 150)
        batched.extend(b"".join(hashes[cut:middle]))
        batched.extend(b"".join(hashes[middle:]))
        assert batched.levels == one_by_one.levels
        assert batched.size == one_by_one.size
        assert batched.root() == one_by_one.root()


def test_equal_size_consistency_refuses_a_forged_root() -> None:
    """Two checkpoints of the same size are consistent only if they sign the same root: a
    forked log of the same length must not pass with an empty (or any) proof."""
    tree = Tree(LEAVES)
    forged = Tree([*LEAVES[:7], leaf_hash(b"forged"), *LEAVES[8:]])
    for n in (1, 2, 8, 33, 70):
        root = tree.root(n)
        assert verify_consistency(n, n, root, root, [])
        other = forged.root(n) if n > 7 else leaf_hash(b"other")
        assert not verify_consistency(n, n, root, other, [])
        assert not verify_consistency(n, n, other, root, [])
        assert not verify_consistency(n, n, root, root, [root])  # no proof is due
    assert not verify_consistency(0, 0, EMPTY_ROOT, leaf_hash(b"x"), [])


def test_equal_sizes_need_equal_roots_and_an_empty_proof() -> None:
    """A consistency check between two checkpoints of the same size proves nothing but
    equality: a forged root of that size, or any proof at all, is refused."""
    tree = Tree(LEAVES)
    for n in (1, 2, 3, 8, 70):
        root = tree.root(n)
        assert verify_consistency(n, n, root, root, [])
        assert tree.consistency_proof(n, n) == []
        forged = leaf_hash(b"forged root")
        assert not verify_consistency(n, n, root, forged, [])
        assert not verify_consistency(n, n, forged, root, [])
        # a proof cannot make two different roots of one size consistent
        assert not verify_consistency(n, n, root, forged, [forged])
        assert not verify_consistency(n, n, root, root, [root])


def test_hashes_are_the_domain_separated_definition() -> None:
    """Leaves and nodes hash with distinct one-byte prefixes (0x00, 0x01), nothing else."""
    import hashlib

    assert leaf_hash(b"entry") == hashlib.sha256(b"\x00entry").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert leaf_hash(b"") != EMPTY_ROOT


def test_leaves_and_default_sizes() -> None:
    tree = Tree(LEAVES[:9])
    assert [tree.leaf(i) for i in range(9)] == LEAVES[:9]
    assert tree.inclusion_proof(4) == tree.inclusion_proof(4, 9)
    assert tree.consistency_proof(5) == tree.consistency_proof(5, 9)


def test_out_of_range_requests_are_refused() -> None:
    import pytest

    tree = Tree(LEAVES[:9])
    with pytest.raises(ValueError, match=r"no subtree \[3, 3\) in a tree of 9"):
        tree.subtree(3, 3)
    with pytest.raises(ValueError, match="no subtree"):
        tree.subtree(0, 10)
    with pytest.raises(ValueError, match="leaf 9 is not in a tree of 9"):
        tree.inclusion_proof(9)
    with pytest.raises(ValueError, match="leaf 2 is not in a tree of 10"):
        tree.inclusion_proof(2, 10)
    with pytest.raises(ValueError, match="no consistency proof from 0 to 9"):
        tree.consistency_proof(0)
    with pytest.raises(ValueError, match="no consistency proof from 5 to 10"):
        tree.consistency_proof(5, 10)
    with pytest.raises(ValueError) as raised:
        tree.extend(b"x" * 31)
    assert str(raised.value) == "leaf hashes must be whole 32-byte hashes"
    assert tree.size == 9


def test_malformed_proofs_are_refused() -> None:
    tree = Tree(LEAVES)
    # a leaf index outside the tree, even one whose hash is the root
    assert not verify_inclusion(1, 1, LEAVES[0], [], tree.root(1))
    assert not verify_inclusion(-1, 5, LEAVES[0], tree.inclusion_proof(0, 5), tree.root(5))
    # a valid proof with an extra node appended
    for n in (1, 5, 8):
        proof = tree.inclusion_proof(0, n)
        assert not verify_inclusion(0, n, LEAVES[0], [*proof, LEAVES[1]], tree.root(n))
    for m, n in ((3, 5), (4, 9), (7, 70)):
        proof = tree.consistency_proof(m, n)
        old, new = tree.root(m), tree.root(n)
        assert not verify_consistency(m, n, old, new, [*proof, LEAVES[1]])
        assert not verify_consistency(m, n, old, new, [])  # sizes differ: a proof is needed
        assert not verify_consistency(n, m, new, old, proof)  # a tree never shrinks
        assert not verify_consistency(0, n, EMPTY_ROOT, new, proof)


def test_a_tree_resumed_from_a_frontier_is_the_same_tree_from_there_on():
    """An incremental verify keeps only the frontier: every root, consistency proof and leaf
    at or after the frontier's size must be the full tree's, and nothing before is guessed."""
    leaves = [hashlib.sha256(bytes([i % 256, i // 256])).digest() for i in range(70)]
    full = Tree(leaves)
    for n in (1, 2, 3, 5, 8, 13, 32, 33, 63):
        resumed = Tree.from_frontier(n, full.frontier(n))
        assert resumed.root() == full.root(n)
        middle = max(n, 37)  # in two goes, as two verifies would
        resumed.extend(b"".join(leaves[n:middle]))
        resumed.extend(b"".join(leaves[middle:]))
        assert resumed.size == full.size
        for k in range(n, full.size + 1):
            assert resumed.root(k) == full.root(k)
            if k > 0:
                assert resumed.consistency_proof(k) == full.consistency_proof(k)
        assert resumed.leaf(n) == full.leaf(n)
        if n > 1:  # the first leaf is inside a frontier subtree (or, at n=1, is one)
            with pytest.raises(ValueError, match=r"^node 0 of level 0 is not kept"):
                resumed.leaf(0)
    with pytest.raises(ValueError):
        Tree.from_frontier(5, full.frontier(4))


def test_a_frontier_must_have_one_hash_per_subtree_each_a_whole_hash():
    """A saved frontier is read from a file: the count of hashes and each hash's length are
    both checked, and the refusal names the size and the count it needs."""
    good, other = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    with pytest.raises(ValueError, match=r"^a frontier of 3 leaves has 2 hashes$"):
        Tree.from_frontier(3, [good])  # too few hashes, each whole
    with pytest.raises(ValueError, match=r"^a frontier of 3 leaves has 2 hashes$"):
        Tree.from_frontier(3, [good, other[:31]])  # the right count, one cut short
    assert Tree.from_frontier(3, [good, other]).size == 3


def test_the_frontier_defaults_to_the_whole_tree():
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(11)]
    tree = Tree(leaves)
    assert tree.frontier() == tree.frontier(11)
    assert len(tree.frontier()) == 3  # 11 = 8 + 2 + 1


def test_node_pairs_are_hashed_only_whole():
    """`extend` hands `pair_hashes` the complete pairs of a level; a trailing odd node waits
    for its sibling. A span cut anywhere else is a caller's mistake, refused, not half-hashed."""
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    assert pair_hashes(a + b + b + a) == node_hash(a, b) + node_hash(b, a)
    assert pair_hashes(b"") == b""
    for cut in (a, a + b + a, a + b + a[:31], a + b + a + b[:1]):
        with pytest.raises(ValueError, match=r"^a span of node pairs must be whole 64-byte pairs$"):
            pair_hashes(cut)
