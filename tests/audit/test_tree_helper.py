"""The tree hashed by a helper process (audit/tree_helper.py) is the tree hashed here, node for
node, and a helper that fails in any way leaves the same tree built here instead."""

from __future__ import annotations

import hashlib
import sys

import pytest

import audit.verify
from audit.tree_helper import HelperTree
from audit.verify import verify_store
from store.application import PartnershipStore
from tests.audit.conftest import tell_story
from tests.audit.test_merkle import VECTORS
from tlog.merkle import Tree, leaf_hash


def hashes(count: int, seed: int = 0) -> bytes:
    return b"".join(hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(count))


def fed(builder: HelperTree | Tree, data: bytes, chunk: int) -> None:
    for at in range(0, len(data), chunk * 32):
        builder.extend(data[at : at + chunk * 32])


@pytest.mark.parametrize(
    ("size", "chunk"),
    [(0, 1), (1, 1), (2, 1), (3, 2), (5, 3), (8, 8), (1000, 7), (1025, 1000), (4096, 4096)],
)
def test_the_helper_builds_the_same_tree(size: int, chunk: int) -> None:
    data = hashes(size)
    helper = HelperTree()
    fed(helper, data, chunk)
    got = helper.finish()
    assert helper.fallback == ""  # the helper's answer was taken, not rebuilt here
    here = Tree()
    fed(here, data, chunk)
    assert got.size == here.size == size
    assert got.levels == here.levels
    assert got.offsets == here.offsets
    assert got.root() == here.root()
    if size > 1:
        assert got.consistency_proof(size // 2) == here.consistency_proof(size // 2)
        assert got.inclusion_proof(size - 1) == here.inclusion_proof(size - 1)


def test_the_helper_tree_is_rfc_6962() -> None:
    """The published roots of every prefix of the RFC 6962 test leaves (transparency-dev)."""
    inputs = [bytes.fromhex(text) for text in VECTORS["leaf_inputs"]]
    for size in range(1, len(inputs) + 1):
        helper = HelperTree()
        fed(helper, b"".join(leaf_hash(data) for data in inputs[:size]), 3)
        tree = helper.finish()
        assert helper.fallback == ""
        assert tree.root().hex() == VECTORS["root_hashes"][size]


#: A helper that answers every level, but level 1 one node short (its length says so).
WRONG_SHAPE = """
import io, sys
from audit.tree_helper import serve
answer = io.BytesIO()
serve(sys.stdin.buffer, answer)
data = answer.getvalue()
length = int.from_bytes(data[:8], "big") - 32
sys.stdout.buffer.write(length.to_bytes(8, "big") + data[8 : 8 + length] + data[8 + length + 32 :])
"""


@pytest.mark.parametrize(
    ("command", "why"),
    [
        (["/nonexistent/python"], "did not start"),
        ([sys.executable, "-c", "pass"], ""),  # gone at once: a broken pipe or no answer
        ([sys.executable, "-c", "import sys; sys.stdin.buffer.read(); sys.exit(3)"], "3"),
        ([sys.executable, "-c", WRONG_SHAPE], "another shape"),
    ],
    ids=["no-start", "gone", "exit-3", "wrong-shape"],
)
def test_a_failing_helper_leaves_the_tree_built_here(command: list[str], why: str) -> None:
    data = hashes(3000, seed=1)
    helper = HelperTree(command)
    fed(helper, data, 1000)
    got = helper.finish()
    assert helper.fallback
    assert why in helper.fallback
    here = Tree()
    here.extend(data)
    assert got.levels == here.levels
    assert got.root() == here.root()


def test_verify_picks_the_helper_for_a_big_log_and_reports_the_same(
    store: PartnershipStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pid in ("partnership-a-b", "partnership-c-d"):
        tell_story(store, pid)
    alone = verify_store(store, helper=False)
    assert alone.tree_hashing == "this process"
    small = verify_store(store)  # 22 entries: not worth a process
    assert small.tree_hashing == "this process"
    monkeypatch.setattr(audit.verify, "HELPER_FROM", 10)
    helped = verify_store(store)
    assert helped.tree_hashing == "a helper process"
    assert (helped.size, helped.root, helped.problems) == (alone.size, alone.root, alone.problems)
    assert helped.tree.levels == alone.tree.levels
