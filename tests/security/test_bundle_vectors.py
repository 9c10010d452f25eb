"""The test vectors of docs/audit-formats.md, read from that page, checked three ways: against
Amity's code, against a second implementation written here from the RFC 6962 text and the page
alone (it imports nothing of `audit`), and, for the Merkle tree, against the known answers
published with the Certificate Transparency / transparency-dev test data. The page therefore
cannot drift from the code, and the code cannot drift from RFC 6962."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-formats.md"


def vector(name: str) -> str:
    """The fenced block that follows `<!-- vector: name -->` on the page (ends in a newline)."""
    found = re.search(
        rf"<!-- vector: {re.escape(name)} -->\n```[a-z]*\n(.*?)\n```", DOC.read_text(), re.S
    )
    assert found, f"no vector {name} in {DOC}"
    return found.group(1) + "\n"


def lines(name: str) -> dict[str, str]:
    """A `key: value` vector as a dict."""
    return dict(line.split(": ", 1) for line in vector(name).splitlines())


def hashes(text: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in text.split()]


# -- a second implementation, from RFC 6962 section 2.1 ---------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf *inputs*."""
    if not d:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = split(len(d))
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b)."""
    if m == len(d):
        return [] if complete else [mth(d)]
    k = split(len(d))
    if m <= k:
        return [*subproof(m, d[:k], complete), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n])."""
    return subproof(m, d, True)


# -- ... and of the page's other formats -------------------------------------------------------

NAMESPACE = uuid.UUID("8f3c2a4e-6a0b-5d7e-9c1f-2b4d6e8a0c13")


def leaf_input(
    notification: int, partnership: str, version: int, topic: str, state: bytes
) -> bytes:
    encoded = topic.encode()
    return (
        b"amity-log-entry/1\x00"
        + struct.pack(">Q", notification)
        + uuid.uuid5(NAMESPACE, partnership).bytes
        + struct.pack(">Q", version)
        + struct.pack(">I", len(encoded))
        + encoded
        + state
    )


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, key: Ed25519PrivateKey) -> bytes:
    return sha256(name.encode() + b"\n" + b"\x01" + raw_public(key))[:4]


def signed_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    signature = key.sign(body.encode())
    return f"{body}\n\u2014 {name} {base64.b64encode(key_id(name, key) + signature).decode()}\n"


# -- 8.1: RFC 6962 known answers ----------------------------------------------------------------

#: Roots of the RFC 6962 SHA-256 tree over the eight standard leaf inputs, for sizes 0 to 8, as
#: published in transparency-dev/merkle `testonly` (RootHashes) and certificate-transparency.
PUBLISHED_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PUBLISHED_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]


def test_the_merkle_tree_matches_the_published_rfc6962_answers() -> None:
    from tlog.merkle import Tree, leaf_hash, verify_consistency, verify_inclusion

    page = lines("rfc6962")
    inputs = [bytes.fromhex(page[f"input {i}"].replace("(empty)", "")) for i in range(8)]
    assert [i.hex() for i in inputs] == PUBLISHED_INPUTS
    tree = Tree(leaf_hash(data) for data in inputs)
    for i, data in enumerate(inputs):
        assert page[f"leaf {i}"] == leaf_hash(data).hex() == mth([data]).hex()
    for n, published in enumerate(PUBLISHED_ROOTS):
        assert page[f"root {n}"] == published
        assert tree.root(n).hex() == published
        assert mth(inputs[:n]).hex() == published
    checked = 0
    for key, value in page.items():
        kind, *sizes = key.split()
        if kind not in ("path", "proof"):
            continue
        m, n = map(int, sizes)
        expected = hashes(value)
        if kind == "path":
            assert path(m, inputs[:n]) == expected
            assert tree.inclusion_proof(m, n) == expected
            assert verify_inclusion(m, n, tree.leaf(m), expected, tree.root(n))
        else:
            assert proof(m, inputs[:n]) == expected
            assert tree.consistency_proof(m, n) == expected
            assert verify_consistency(m, n, tree.root(m), tree.root(n), expected)
        checked += 1
    assert checked == 11


def test_the_independent_implementation_agrees_with_the_code_for_many_sizes() -> None:
    from tlog.merkle import Tree, leaf_hash

    inputs = [bytes([i]) * (i % 5) for i in range(40)]
    tree = Tree(leaf_hash(data) for data in inputs)
    for n in range(1, 41):
        assert tree.root(n) == mth(inputs[:n])
        for m in range(n):
            assert tree.inclusion_proof(m, n) == path(m, inputs[:n])
            assert tree.consistency_proof(m + 1, n) == proof(m + 1, inputs[:n])


# -- 8.2: Amity's leaves -------------------------------------------------------------------------

ENTRY = re.compile(r"notification (\d+), (\S+) version (\d+), state (.*)")
TOPIC = "domain.aggregate:PartnershipEvent"


def amity_log() -> tuple[dict[str, str], list[tuple[int, str, int, bytes]]]:
    page = lines("amity-log")
    rows = []
    for i in range(7):
        found = ENTRY.fullmatch(page[f"entry {i}"])
        assert found, page[f"entry {i}"]
        rows.append((int(found[1]), found[2], int(found[3]), found[4].encode()))
    return page, rows


def test_amity_leaves_roots_and_proofs_match_the_page() -> None:
    from audit.log import leaf_data
    from domain.identity import aggregate_id
    from tlog.merkle import Tree, leaf_hash

    page, rows = amity_log()
    for pid in {row[1] for row in rows}:
        assert page[f"aggregate {pid}"] == str(aggregate_id(pid)) == str(uuid.uuid5(NAMESPACE, pid))
    inputs = [leaf_input(n, pid, v, TOPIC, state) for n, pid, v, state in rows]
    for i, (n, pid, v, state) in enumerate(rows):
        assert page[f"leaf_data {i}"] == inputs[i].hex()
        assert leaf_data(n, aggregate_id(pid), v, TOPIC, state) == inputs[i]
        assert page[f"leaf {i}"] == leaf_hash(inputs[i]).hex() == mth([inputs[i]]).hex()
    tree = Tree(leaf_hash(data) for data in inputs)
    for n in range(1, 8):
        assert page[f"root {n}"] == tree.root(n).hex() == mth(inputs[:n]).hex()
    for m in range(7):
        assert hashes(page[f"path {m} 7"]) == tree.inclusion_proof(m, 7) == path(m, inputs)
    for m in (3, 4, 6):
        assert hashes(page[f"proof {m} 7"]) == tree.consistency_proof(m, 7) == proof(m, inputs)


# -- 8.3 - 8.5: the key, the checkpoint, the head ------------------------------------------------

ORIGIN = "amity.local/event-log"


def vector_key() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    page = lines("key")
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(page["seed"])), page


def test_the_key_checkpoint_and_head_are_byte_exact() -> None:
    from audit import head as heads
    from tlog import note

    key, page = vector_key()
    assert page["public key"] == raw_public(key).hex()
    assert page["key id"] == key_id(ORIGIN, key).hex()
    encoded = base64.b64encode(b"\x01" + raw_public(key)).decode()
    independent = f"{ORIGIN}+{key_id(ORIGIN, key).hex()}+{encoded}"
    assert page["verifier key"] == independent == note.verifier_key(ORIGIN, key.public_key())

    _, rows = amity_log()
    inputs = [leaf_input(n, pid, v, TOPIC, state) for n, pid, v, state in rows]
    root = mth(inputs)
    b64root = base64.b64encode(root).decode()
    checkpoint = vector("checkpoint")
    assert checkpoint == signed_note(f"{ORIGIN}\n7\n{b64root}\n", ORIGIN, key)
    assert checkpoint == note.sign(note.body(ORIGIN, 7, root), ORIGIN, key)
    parsed = note.parse(checkpoint)
    assert (parsed.origin, parsed.size, parsed.root) == (ORIGIN, 7, root)
    assert note.verify(parsed, *note.parse_verifier_key(page["verifier key"]))

    pid = "partnership-mianyang-cupertino"
    head_body = (
        f"amity-partnership-head/v1\norigin {ORIGIN}\npartnership {pid}\n"
        f"aggregate {uuid.uuid5(NAMESPACE, pid)}\nversion 4\ntree 7 {b64root}\n"
    )
    head = vector("head")
    assert head == signed_note(head_body, ORIGIN, key)
    assert head == heads.sign(heads.make(ORIGIN, pid, 4, 7, root), ORIGIN, key)
    signed = heads.parse(head)
    assert signed.head == heads.make(ORIGIN, pid, 4, 7, root)
    assert heads.verify(signed, *note.parse_verifier_key(page["verifier key"]))
    # one can never be passed as the other, though the same key signs both
    with pytest.raises(note.NoteError):
        note.parse(head)
    with pytest.raises(heads.HeadError):
        heads.parse(checkpoint)


# -- 8.6: the bundle --------------------------------------------------------------------------


def documented_bundle() -> dict[str, Any]:
    from audit.bundle_file import load_bundle

    return load_bundle(vector("bundle").encode())


def test_the_documented_bundle_verifies_with_the_code_and_independently() -> None:
    from audit.bundle import verify_bundle
    from tlog.note import parse_verifier_key

    _, page = vector_key()
    trusted = parse_verifier_key(page["verifier key"])
    bundle = documented_bundle()
    report = verify_bundle(bundle, trusted, ORIGIN)
    assert report.ok, report.problems
    assert (report.partnership_id, report.last_version, report.entries) == (
        "partnership-mianyang-cupertino",
        4,
        4,
    )
    # independently: the checkpoint and head are the page's, every entry is its log entry
    assert bundle["checkpoint"] == vector("checkpoint")
    assert bundle["head"] == vector("head")
    _, rows = amity_log()
    inputs = [leaf_input(n, pid, v, TOPIC, state) for n, pid, v, state in rows]
    mine = [i for i, row in enumerate(rows) if row[1] == bundle["partnership_id"]]
    assert [e["position"] for e in bundle["entries"]] == mine
    for entry in bundle["entries"]:
        m = entry["position"]
        n, pid, version, state = rows[m]
        assert base64.b64decode(entry["state"]) == state
        assert json.loads(state) == entry["record"]
        assert entry["originator_id"] == str(uuid.uuid5(NAMESPACE, pid))
        assert (entry["notification_id"], entry["originator_version"]) == (n, version)
        assert [base64.b64decode(p) for p in entry["proof"]] == path(m, inputs)
    assert [e["originator_version"] for e in bundle["entries"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("change", ["drop-last", "reorder", "state-byte", "other-key"])
def test_the_documented_bundle_changed_does_not_verify(change: str) -> None:
    from audit.bundle import verify_bundle
    from tlog.note import parse_verifier_key, verifier_key

    _, page = vector_key()
    trusted = parse_verifier_key(page["verifier key"])
    bundle = documented_bundle()
    entries = bundle["entries"]
    if change == "drop-last":
        entries.pop()
    elif change == "reorder":
        entries[1], entries[2] = entries[2], entries[1]
    elif change == "state-byte":
        state = bytearray(base64.b64decode(entries[0]["state"]))
        state[-2] ^= 1  # the version digit: still JSON
        entries[0]["state"] = base64.b64encode(bytes(state)).decode()
        entries[0]["record"] = json.loads(state)
    else:
        other = Ed25519PrivateKey.from_private_bytes(bytes(32))
        trusted = parse_verifier_key(verifier_key(ORIGIN, other.public_key()))
    assert not verify_bundle(bundle, trusted, ORIGIN).ok
