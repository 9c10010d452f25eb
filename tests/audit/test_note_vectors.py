"""Signed notes against the known answers of Go's reference implementation
(golang.org/x/mod/sumdb/note, transcribed with their source in tests/audit/vectors/
signed_note.json): the same key ids and verifier keys, the same signed note byte for byte
from the same Ed25519 seed, its signatures verified, and the keys and notes Go refuses
refused here too (where Amity reads them more leniently, the test says so)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tlog import note

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "signed_note.json").read_text(encoding="utf-8")
)
PETER, ENOCH = "PeterNeumann", "EnochRoot"


def peter_key() -> Ed25519PrivateKey:
    """Go's private key text: PRIVATE+KEY+<name>+<key id>+<base64(0x01 || Ed25519 seed)>."""
    _, _, name, hex_id, encoded = VECTORS["signer_key"].split("+", 4)  # base64 may hold "+"
    raw = base64.b64decode(encoded)
    assert (name, hex_id, raw[:1], len(raw)) == (PETER, "c74f20a3", note.ED25519, 33)
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_the_key_id_and_verifier_key_are_gos() -> None:
    public = peter_key().public_key()
    assert note.key_id(PETER, public).hex() == VECTORS["key_hashes"][PETER]
    assert note.verifier_key(PETER, public) == VECTORS["verifier_keys"][PETER]
    for name, text in VECTORS["verifier_keys"].items():
        parsed_name, parsed = note.parse_verifier_key(text)
        assert parsed_name == name
        assert note.key_id(name, parsed).hex() == VECTORS["key_hashes"][name]


def test_the_signed_note_is_byte_exact() -> None:
    """Ed25519 is deterministic: the same seed and text give Go's note exactly."""
    assert note.sign(VECTORS["text"], PETER, peter_key()) == VECTORS["signed_note"]
    assert VECTORS["signed_note"] == VECTORS["text"] + "\n" + VECTORS["signature_lines"][PETER]


def test_each_signer_verifies_and_only_its_own_line() -> None:
    text, block = note.split(VECTORS["text"] + "\n" + "".join(VECTORS["signature_lines"].values()))
    assert text == VECTORS["text"]
    signatures = note.parse_signatures(block)
    assert [(name, kid.hex()) for name, kid, _ in signatures] == [
        (PETER, "c74f20a3"),
        (ENOCH, "af0cfe78"),
    ]
    peter = note.parse_verifier_key(VECTORS["verifier_keys"][PETER])
    enoch = note.parse_verifier_key(VECTORS["verifier_keys"][ENOCH])
    assert note.verify_text(text, signatures, *peter)
    assert note.verify_text(text, signatures, *enoch)
    assert not note.verify_text(text.replace("think", "hope"), signatures, *peter)
    # Enoch's key under Peter's name: no line is by that key
    assert not note.verify_text(text, signatures, PETER, enoch[1])


def test_a_changed_signature_does_not_verify() -> None:
    """Go's "invalid signature" case: four characters spliced into Peter's signature."""
    line = VECTORS["signature_lines"][PETER]
    spliced = line[:60] + "ABCD" + line[60:]
    text, block = note.split(VECTORS["text"] + "\n" + spliced)
    signatures = note.parse_signatures(block)
    assert not note.verify_text(
        text, signatures, *note.parse_verifier_key(VECTORS["verifier_keys"][PETER])
    )


def test_the_keys_go_refuses_are_refused() -> None:
    good = VECTORS["verifier_keys"][PETER]
    mangled = [*VECTORS["bad_verifier_keys"]]
    mangled += [good[i:j] for i in range(len(good)) for j in range(i + 1, len(good) + 1)]
    mangled.remove(good)
    mangled += [good[:i] + chr(ord(good[i]) + 1) + good[i + 1 :] for i in range(len(good))]
    assert len(mangled) > 2000
    for text in mangled:
        with pytest.raises(note.NoteError, match=r"^not a verifier key \(name\+id\+key\): "):
            note.parse_verifier_key(text)


def test_the_notes_go_refuses() -> None:
    text, line = VECTORS["text"], VECTORS["signature_lines"][PETER]
    refused = {
        text: "no signature block",
        text + "\n": "bad signature line ''",
        text + "\n" + line + "Unexpected line.\n": "bad signature line 'Unexpected line.'",
        text + "\n" + line * 101: "more than 100 signature lines",
    }
    for signed, reason in refused.items():
        with pytest.raises(note.NoteError) as raised:
            note.parse_signatures(note.split(signed)[1])
        assert str(raised.value) == reason
    assert len(note.parse_signatures(note.split(text + "\n" + line * 100)[1])) == 100


def test_where_amity_reads_more_leniently_than_go() -> None:
    """Go refuses these notes outright. Amity reads them, and none can pass as signed by
    Peter's key: a note without its final newline (files edited by hand lose it) verifies as
    the same note; a name with a space is read as that name, which no verifier key can have."""
    text, line = VECTORS["text"], VECTORS["signature_lines"][PETER]
    peter = note.parse_verifier_key(VECTORS["verifier_keys"][PETER])
    body, block = note.split(text + "\n" + line.rstrip("\n"))
    assert note.verify_text(body, note.parse_signatures(block), *peter)
    body, block = note.split(text + "\n" + line.replace(PETER, "Bad Name"))
    signatures = note.parse_signatures(block)
    assert signatures[0][0] == "Bad Name"
    assert not note.verify_text(body, signatures, *peter)
