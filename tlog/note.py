"""Checkpoints as C2SP signed notes (`tlog-checkpoint`, `signed-note`), Ed25519 signatures.

A signed note is its text (lines ending in a newline), an empty line and one signature line
per signer: `— <key name> <base64(key id || signature)>`, where the key id is the first 4
bytes of SHA-256(name || 0x0A || 0x01 || public key). A verifier key is written
`<name>+<hex key id>+<base64(0x01 || public key)>`. `split`, `parse_signatures` and
`verify_text` read any signed note (the checkpoint here, the partnership head statement of
audit/head.py); a checkpoint's text is three lines, the origin, the tree size and the base64
root hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"
DASH = "\u2014"
#: The most signature lines a note may carry (as Go's `note.Open`): a hostile note cannot
#: make a verifier decode and try thousands of them.
MAX_SIGNATURES = 100

#: One decoded signature line: (key name, key id, signature).
Signature = tuple[str, bytes, bytes]


class NoteError(ValueError):
    """Not a well-formed checkpoint or key."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[Signature, ...]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    encoded = base64.b64encode(ED25519 + raw_public(public)).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def parse_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
        if raw[:1] != ED25519 or len(raw) != 33:
            raise ValueError("not an Ed25519 key")
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
        if key_id(name, public).hex() != hex_id:
            raise ValueError("key id does not match the key")
    except (ValueError, binascii.Error) as error:
        raise NoteError(f"not a verifier key (name+id+key): {error}") from None
    return name, public


def body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note: the body, an empty line, one signature line."""
    signature = key.sign(text.encode())
    blob = base64.b64encode(key_id(name, key.public_key()) + signature).decode()
    return f"{text}\n{DASH} {name} {blob}\n"


def split(note: str, error: type[ValueError] = NoteError) -> tuple[str, str]:
    """A signed note's text (ending in its newline) and its block of signature lines.

    `error` is the caller's error class, so that a head statement, say, reports a bad note
    as its own kind of error in the same words."""
    text, separator, block = note.partition("\n\n")
    if not separator:
        raise error("no signature block")
    return text + "\n", block


def parse_signatures(block: str, error: type[ValueError] = NoteError) -> tuple[Signature, ...]:
    """Every signature line of a note's signature block, decoded, in order.

    The blob is taken whole (a name ends at the last space) and must be strict base64 of a key
    id and at least one byte: cosignatures of other lengths ride along on a checkpoint, and
    whoever verifies knows the length its key's signatures have."""
    lines = block.rstrip("\n").split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise error(f"more than {MAX_SIGNATURES} signature lines")
    prefix = f"{DASH} "
    signatures = []
    for line in lines:
        if not line.startswith(prefix):
            raise error(f"bad signature line {line[:40]!r}")
        name, _, blob = line[len(prefix) :].rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise error("bad signature encoding") from None
        if len(raw) < 5:
            raise error("signature too short")
        signatures.append((name, raw[:4], raw[4:]))
    return tuple(signatures)


def verify_text(
    text: str, signatures: Sequence[Signature], name: str, public: Ed25519PublicKey
) -> bool:
    """True when the first signature line by this key (its name and key id) verifies over
    the text; another signer's lines, or none by this key, never count."""
    wanted = key_id(name, public)
    for signer, kid, signature in signatures:
        if signer == name and kid == wanted:
            try:
                public.verify(signature, text.encode())
            except InvalidSignature:
                return False
            return True
    return False


def parse(note: str) -> Checkpoint:
    text, block = split(note)
    lines = text.split("\n")
    if len(lines) < 4:
        raise NoteError("a checkpoint needs origin, size and root hash lines")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("bad tree size or root hash line") from None
    if size < 0 or len(root) != 32 or lines[1] != str(size):
        raise NoteError("bad tree size or root hash line")
    return Checkpoint(lines[0], size, root, text, parse_signatures(block))


def verify(checkpoint: Checkpoint, name: str, public: Ed25519PublicKey) -> bool:
    """True when one signature line is by this key and verifies over the body."""
    return verify_text(checkpoint.body, checkpoint.signatures, name, public)
