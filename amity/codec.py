"""AES-GCM payload codec: Temporal's history holds ciphertext, never a name in clear.

With AMITY_PAYLOAD_KEY (base64 of 32 random bytes) every payload the client and worker
send (workflow inputs, update and signal arguments, activity inputs and results, query
answers, memos) is encrypted after the pydantic converter has made it JSON. The payload
carries `encoding: binary/encrypted` and the key's fingerprint (never the key). Operators
see plaintext in the Temporal UI through the codec server (amity/codec_server.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class CodecKeyError(ValueError):
    """AMITY_PAYLOAD_KEY cannot be used, or a payload was sealed with another key."""


def parse_key(value: str) -> bytes:
    """base64 of 32 bytes; the message never repeats the value."""
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise CodecKeyError("AMITY_PAYLOAD_KEY must be base64 of 32 random bytes")
    return key


class AesGcmCodec(PayloadCodec):
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"amity-payload-key/1\x00" + key).hexdigest()[:16]

    @classmethod
    def from_base64(cls, value: str) -> AesGcmCodec:
        return cls(parse_key(value))

    def __repr__(self) -> str:
        return f"AesGcmCodec(key_id={self.key_id})"

    def encode_one(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self.key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()},
            data=nonce + sealed,
        )

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        if key_id != self.key_id:
            raise CodecKeyError(f"payload sealed with another key ({key_id or 'unknown'})")
        try:
            plain = self._aead.decrypt(payload.data[:12], payload.data[12:], key_id.encode())
        except InvalidTag:
            raise CodecKeyError("payload does not decrypt (altered, or another key)") from None
        decoded = Payload()
        decoded.ParseFromString(plain)
        return decoded

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decode_one(p) for p in payloads]
