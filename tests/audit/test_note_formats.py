"""Signed notes and verifier keys: every malformed input is refused with its reason, and
the strict parts (base64 validation, key ids, one signature per line) stay strict.

Written to kill the mutants mutmut found alive in tlog/note.py (docs/testing.md)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tlog import note

NAME = "amity.test/log"
ROOT = b"\x01" * 32
KEY = Ed25519PrivateKey.generate()


def signed(size: int = 7, root: bytes = ROOT, key: Ed25519PrivateKey = KEY) -> str:
    return note.sign(note.body(NAME, size, root), NAME, key)


def test_the_key_id_is_the_c2sp_definition() -> None:
    public = KEY.public_key()
    raw = note.raw_public(public)
    assert (
        note.key_id(NAME, public)
        == hashlib.sha256(f"{NAME}\n".encode() + b"\x01" + raw).digest()[:4]
    )


def test_malformed_verifier_keys_are_refused_with_the_reason() -> None:
    good = note.verifier_key(NAME, KEY.public_key())
    name, hex_id, encoded = good.split("+", 2)
    raw = base64.b64decode(encoded)

    def key(blob: bytes, key_id: str = hex_id) -> str:
        return f"{name}+{key_id}+{base64.b64encode(blob).decode()}"

    prefix = r"not a verifier key \(name\+id\+key\): "
    with pytest.raises(note.NoteError, match=prefix + "not an Ed25519 key$"):
        note.parse_verifier_key(key(b"\x02" + raw[1:]))  # another algorithm
    with pytest.raises(note.NoteError, match=prefix + "not an Ed25519 key$"):
        note.parse_verifier_key(key(raw + b"\x00"))  # 33 bytes are required
    with pytest.raises(note.NoteError, match=prefix + "key id does not match the key$"):
        note.parse_verifier_key(key(raw, "00000000"))
    with pytest.raises(note.NoteError, match=prefix):
        note.parse_verifier_key(f"{name}+{hex_id}+{encoded[:10]}!{encoded[10:]}")  # not base64
    assert note.parse_verifier_key(good)[0] == NAME


def test_malformed_checkpoints_are_refused_with_the_reason() -> None:
    good = signed()
    body, _, signature = good.partition("\n\n")
    origin, size, root = body.split("\n")

    def with_body(*lines: str) -> str:
        return "\n".join(lines) + "\n\n" + signature

    cases = {
        body + "\n" + signature: "no signature block",
        with_body(origin, size): "a checkpoint needs origin, size and root hash lines",
        with_body(origin, "seven", root): "bad tree size or root hash line",
        with_body(origin, size, root[:10] + "!" + root[10:]): "bad tree size or root hash line",
        with_body(origin, "-1", root): "bad tree size or root hash line",
        with_body(origin, "07", root): "bad tree size or root hash line",
        with_body(origin, size, base64.b64encode(b"\x01" * 31).decode()): (
            "bad tree size or root hash line"
        ),
    }
    for text, reason in cases.items():
        with pytest.raises(note.NoteError) as raised:
            note.parse(text)
        assert str(raised.value) == reason, text
    empty = note.parse(signed(size=0))  # the empty log is a valid checkpoint
    assert (empty.size, empty.root) == (0, ROOT)


def test_malformed_signature_lines_are_refused_with_the_reason() -> None:
    body = note.body(NAME, 7, ROOT)
    long_line = "x" * 50
    cases = {
        f"{body}\n{long_line}\n": f"bad signature line {'x' * 40!r}",
        f"{body}\n{note.DASH} {NAME} AAAA!AAA\n": "bad signature encoding",
        f"{body}\n{note.DASH} {NAME} MTIz!NDU2\n": "bad signature encoding",  # not skipped
        f"{body}\n{note.DASH} {NAME} AAAA\n": "signature too short",  # 3 bytes
        f"{body}\n{note.DASH} {NAME} {base64.b64encode(b'1234').decode()}\n": (
            "signature too short"
        ),
        f"{signed().rstrip()} \n": "signature too short",  # a trailing space: empty blob
    }
    for text, reason in cases.items():
        with pytest.raises(note.NoteError) as raised:
            note.parse(text)
        assert str(raised.value) == reason, text
    # the shortest signature line that parses: a key id and one byte (which cannot verify)
    shortest = note.parse(f"{body}\n{note.DASH} {NAME} {base64.b64encode(b'12345').decode()}\n")
    assert shortest.signatures == ((NAME, b"1234", b"5"),)
    assert not note.verify(shortest, NAME, KEY.public_key())


def test_signature_blobs_are_taken_whole() -> None:
    # a blob ending in "X" (3 bytes 00 00 17 encode as "AAAX"): nothing is stripped from it
    raw = b"\x00" * 68 + b"\x17"
    blob = base64.b64encode(raw).decode()
    assert blob.endswith("AAAX")
    parsed = note.parse(f"{note.body(NAME, 7, ROOT)}\n{note.DASH} {NAME} {blob}\n")
    assert parsed.signatures == ((NAME, raw[:4], raw[4:]),)
    # a note followed by an extra blank line still has its one signature
    assert note.parse(signed() + "\n").signatures == note.parse(signed()).signatures


def test_a_note_may_carry_exactly_the_most_signature_lines() -> None:
    """100 lines (Go's limit) are read, the real one among them verifies; 101 are refused."""
    cosigner = f"{note.DASH} witness.example {base64.b64encode(b'12345').decode()}\n"
    most = signed() + cosigner * (note.MAX_SIGNATURES - 1)
    parsed = note.parse(most)
    assert len(parsed.signatures) == note.MAX_SIGNATURES == 100
    assert note.verify(parsed, NAME, KEY.public_key())
    with pytest.raises(note.NoteError, match=r"^more than 100 signature lines$"):
        note.parse(most + cosigner)


def test_several_signers_each_verify() -> None:
    other = Ed25519PrivateKey.generate()
    body = note.body(NAME, 7, ROOT)
    first = note.sign(body, NAME, other)  # another key under the same name signs first
    second = note.sign(body, NAME, KEY).split("\n\n", 1)[1]
    parsed = note.parse(first + second)
    assert len(parsed.signatures) == 2
    assert note.verify(parsed, NAME, KEY.public_key())
    assert note.verify(parsed, NAME, other.public_key())
    assert not note.verify(parsed, "another.name", KEY.public_key())


def test_a_changed_body_does_not_verify() -> None:
    parsed = note.parse(signed())
    changed = replace(parsed, body=parsed.body.replace("\n7\n", "\n8\n"))
    assert not note.verify(changed, NAME, KEY.public_key())
    assert note.verify(parsed, NAME, KEY.public_key())


def test_head_statements_read_their_signature_lines_with_the_same_reader() -> None:
    """A head statement's signature block is refused for the same reasons, in the same words,
    as a checkpoint's (as a HeadError); it must moreover hold exactly Ed25519 signatures."""
    from audit import head as heads

    statement = heads.body(heads.make(NAME, "partnership-a", 3, 7, ROOT))
    cases = {
        f"{statement}\n{'x' * 50}\n": f"bad signature line {'x' * 40!r}",
        f"{statement}\n{note.DASH} {NAME} AAAA!AAA\n": "bad signature encoding",
        f"{statement}\n{note.DASH} {NAME} AAAA\n": "signature too short",
        f"{statement}\n" + f"{note.DASH} {NAME} AAAAAAAA\n" * 101: "more than 100 signature lines",
        f"{statement}\n{note.DASH} {NAME} {base64.b64encode(b'12345').decode()}\n": (
            "an Ed25519 signature line holds a 4-byte key id and 64 bytes"
        ),
    }
    for text, reason in cases.items():
        with pytest.raises(heads.HeadError) as raised:
            heads.parse(text)
        assert str(raised.value) == reason, text
    signed = heads.sign(heads.make(NAME, "partnership-a", 3, 7, ROOT), NAME, KEY)
    assert heads.verify(heads.parse(signed), NAME, KEY.public_key())
    assert not heads.verify(heads.parse(signed), NAME, Ed25519PrivateKey.generate().public_key())
