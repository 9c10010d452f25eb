"""The tree hashed by a helper process (audit/tree_helper.py) is the tree hashed here, node for
node, and a helper that fails in any way leaves the same tree built here instead."""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from array import array
from pathlib import Path

import pytest

import audit.verify
from audit.log import leaves
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


def inputs(count: int) -> list[bytes]:
    """Leaf inputs of many sizes (empty too)."""
    return [bytes([i % 251]) * (i % 700) for i in range(count)]


def fed_inputs(helper: HelperTree, data: list[bytes], chunk: int) -> None:
    for at in range(0, len(data), chunk):
        part = data[at : at + chunk]
        helper.extend_inputs(b"".join(part), array("I", map(len, part)).tobytes())


@pytest.mark.parametrize(("size", "chunk"), [(1, 1), (2, 2), (7, 3), (1000, 333), (2049, 2049)])
def test_given_leaf_inputs_the_helper_hashes_the_leaves_too(size: int, chunk: int) -> None:
    data = inputs(size)
    helper = HelperTree(inputs=True)
    fed_inputs(helper, data, chunk)
    got = helper.finish()
    assert helper.fallback == ""
    assert got is not None
    here = Tree()
    here.extend(b"".join(hashlib.sha256(item).digest() for item in data))
    assert got.size == size
    assert got.levels == here.levels
    assert got.offsets == here.offsets
    assert got.root() == here.root()


def test_a_failing_helper_given_inputs_gives_no_tree() -> None:
    helper = HelperTree([sys.executable, "-c", "pass"], inputs=True)
    fed_inputs(helper, inputs(500), 100)
    assert helper.finish() is None
    assert helper.fallback


def test_the_sizes_must_add_up() -> None:
    helper = HelperTree(inputs=True)
    with pytest.raises(ValueError, match="do not add up"):
        helper.extend_inputs(b"abc", array("I", [1, 1]).tobytes())
    with pytest.raises(ValueError, match="extend_inputs"):
        helper.extend(bytes(32))
    helper.close()


def test_leaf_inputs_are_what_the_leaf_hashes_hash(store: PartnershipStore, store_url: str) -> None:
    tell_story(store, "partnership-a-b")
    if store_url.startswith("sqlite"):  # one entry of another topic: a batch of two topics
        with sqlite3.connect(Path(store_url.removeprefix("sqlite:///"))) as db:
            owner, state = db.execute(
                "SELECT originator_id, state FROM stored_events WHERE rowid = 11"
            ).fetchone()
            db.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " VALUES (?, 12, 'some.module:OtherEvent', ?)",
                (owner, state),
            )
        db.close()
    for batch in (3, 5, 100):
        hashed = list(leaves(store, batch))
        given = list(leaves(store, batch, hashed=False))
        assert [b.notification_ids for b in given] == [b.notification_ids for b in hashed]
        assert [b.versions for b in given] == [b.versions for b in hashed]
        for with_hashes, with_inputs in zip(hashed, given, strict=True):
            sizes = array("I", with_inputs.sizes)
            assert sum(sizes) == len(with_inputs.inputs)
            at, digests = 0, []
            for size in sizes:
                digests.append(hashlib.sha256(with_inputs.inputs[at : at + size]).digest())
                at += size
            assert b"".join(digests) == with_hashes.hashes


class BrokenHelper(HelperTree):
    """A helper process that exits at once, whatever it is given."""

    def __init__(self, command: list[str] | None = None, *, inputs: bool = False) -> None:
        super().__init__([sys.executable, "-c", "import sys; sys.exit(4)"], inputs=inputs)


def test_verify_walks_again_here_when_the_helper_fails(
    store: PartnershipStore, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pid in ("partnership-a-b", "partnership-c-d"):
        tell_story(store, pid)
    if store_url.startswith("sqlite"):  # a gap in a partnership's versions: one problem
        with sqlite3.connect(Path(store_url.removeprefix("sqlite:///"))) as db:
            db.execute("DELETE FROM stored_events WHERE rowid = 7")
        db.close()
    alone = verify_store(store, helper=False)
    assert len(alone.problems) == (1 if store_url.startswith("sqlite") else 0)
    monkeypatch.setattr(audit.verify, "HelperTree", BrokenHelper)
    again = verify_store(store, helper=True)
    assert again.tree_hashing.startswith("this process (the helper process")
    assert (again.size, again.root, again.problems) == (alone.size, alone.root, alone.problems)
    assert again.tree.levels == alone.tree.levels
