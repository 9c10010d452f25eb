"""Signed notes and verifier keys round-trip (base64 keys often contain '+')."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tlog import note


def test_keys_and_checkpoints_round_trip() -> None:
    for _ in range(64):
        key = Ed25519PrivateKey.generate()
        name, public = note.parse_verifier_key(
            note.verifier_key("amity.test/log", key.public_key())
        )
        assert name == "amity.test/log"
        signed = note.sign(note.body(name, 7, b"\x01" * 32), name, key)
        parsed = note.parse(signed)
        assert (parsed.origin, parsed.size, parsed.root) == (name, 7, b"\x01" * 32)
        assert note.verify(parsed, name, public)
        other = Ed25519PrivateKey.generate().public_key()
        assert not note.verify(parsed, name, other)
