"""A partnership's signed head: which aggregate its events belong to and how many there are.

A checkpoint proves that each event of a bundle is in the log; it cannot say that none of a
partnership's events were left out, nor which partnership a set of aggregate ids is. The head
statement does: signed by the same audit key, it binds the partnership id, its aggregate UUID,
its last version at the checkpoint, and that checkpoint's tree size and root hash. It is a C2SP
signed note whose body can never parse as a checkpoint (its second line is not a number), and
a checkpoint body can never parse as a head (its first line is this format's fixed tag).

    amity-partnership-head/v1
    origin amity.local/event-log
    partnership partnership-mianyang-cupertino
    aggregate 9c2a5d1e-...
    version 11
    tree 33 <base64 root hash>
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.identity import aggregate_id
from tlog import note

TAG = "amity-partnership-head/v1"
#: Bounds the signed integers keep to (the leaf encodes versions as 64-bit unsigned).
MAX_INT = 2**63 - 1


class HeadError(ValueError):
    """Not a well-formed head statement."""


@dataclass(frozen=True)
class Head:
    origin: str
    partnership_id: str
    aggregate: UUID
    version: int
    tree_size: int
    root: bytes


@dataclass(frozen=True)
class SignedHead:
    head: Head
    body: str
    signatures: tuple[note.Signature, ...]


def _plain(value: str, what: str) -> str:
    """Text that fits on one line of a note without any ambiguity."""
    if not value or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise HeadError(f"{what} {value[:60]!r} cannot go in a head statement")
    return value


def body(head: Head) -> str:
    """The exact text that is signed (every line ends with a newline)."""
    return (
        f"{TAG}\n"
        f"origin {_plain(head.origin, 'origin')}\n"
        f"partnership {_plain(head.partnership_id, 'partnership id')}\n"
        f"aggregate {head.aggregate}\n"
        f"version {head.version}\n"
        f"tree {head.tree_size} {base64.b64encode(head.root).decode()}\n"
    )


def make(origin: str, partnership_id: str, version: int, tree_size: int, root: bytes) -> Head:
    return Head(origin, partnership_id, aggregate_id(partnership_id), version, tree_size, root)


def sign(head: Head, name: str, key: Ed25519PrivateKey) -> str:
    return note.sign(body(head), name, key)


def _number(text: str) -> int:
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        raise HeadError(f"not a number: {text[:30]!r}")
    if len(text) > 19 or int(text) > MAX_INT:
        raise HeadError("number out of range")
    return int(text)


def _parse_body(text: str) -> Head:
    lines = text.split("\n")
    if len(lines) != 7 or lines[0] != TAG or lines[6] != "":
        raise HeadError(f"not a head statement (first line {TAG} and six lines expected)")
    fields: dict[str, str] = {}
    labels = ("origin", "partnership", "aggregate", "version", "tree")
    for line, key in zip(lines[1:6], labels, strict=True):
        label, _, value = line.partition(" ")
        if label != key:
            raise HeadError(f"line {key!r} expected, found {line[:40]!r}")
        fields[key] = value
    size_text, _, root_text = fields["tree"].partition(" ")
    try:
        aggregate = UUID(fields["aggregate"])
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error):
        raise HeadError("bad aggregate or root hash") from None
    if len(root) != 32:
        raise HeadError("the root hash must be 32 bytes")
    head = Head(
        fields["origin"],
        fields["partnership"],
        aggregate,
        _number(fields["version"]),
        _number(size_text),
        root,
    )
    if body(head) != text:  # one head, one encoding: no second spelling of the same claim
        raise HeadError("the head statement is not in its canonical form")
    return head


def parse(signed: str) -> SignedHead:
    text, block = note.split(signed, HeadError)
    head = _parse_body(text)
    signatures = note.parse_signatures(block, HeadError)
    if any(len(kid) + len(signature) != 4 + 64 for _, kid, signature in signatures):
        raise HeadError("an Ed25519 signature line holds a 4-byte key id and 64 bytes")
    return SignedHead(head, text, signatures)


def verify(signed: SignedHead, name: str, public: Ed25519PublicKey) -> bool:
    """True when a signature line is by this key and verifies over the body."""
    return note.verify_text(signed.body, signed.signatures, name, public)
