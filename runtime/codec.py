"""AES-GCM payload codec: Temporal's history holds ciphertext, never a name in clear.

With AMITY_PAYLOAD_KEY (base64 of 32 random bytes) every payload the client and worker
send (workflow inputs, update and signal arguments, activity inputs and results, query
answers, memos) is encrypted after the pydantic converter has made it JSON. The payload
carries `encoding: binary/encrypted` and the key's fingerprint (never the key). Operators
see plaintext in the Temporal UI through the codec server (amity/codec_server.py).

Encryption fails closed: with a key, a payload that arrives unencrypted is never taken as
data. A client raises CodecKeyError (one line in the CLI); a worker hands the workflow a
marker (domain/sealed.py) so the command is refused with the reason and nothing is
recorded. Without a key, a client or worker that meets an encrypted payload raises
CodecKeyError naming the missing key (a worker's workflow task then retries until it has
the key, instead of deciding on data it cannot read).

Search attributes, workflow ids and types, update/signal/query names, failure messages
and headers are not payloads the SDK passes through a codec: they stay plaintext
(docs/encryption.md).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from domain.sealed import PLAINTEXT_REASON, PLAINTEXT_REFUSED
from store.key_text import key_bytes

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class CodecKeyError(ValueError):
    """AMITY_PAYLOAD_KEY cannot be used, or a payload was sealed with another key."""


def parse_key(value: str) -> bytes:
    """base64 of 32 bytes; the message never repeats the value."""
    key = key_bytes(value, (32,))
    if key is None:
        raise CodecKeyError("AMITY_PAYLOAD_KEY must be base64 of 32 random bytes")
    return key


#: What decode does with a payload that is not encrypted: a client raises, a worker marks it
#: for the workflow to refuse, the codec server (display only) and a migration accept it.
Plaintext = Literal["raise", "mark", "accept"]


class AesGcmCodec(PayloadCodec):
    def __init__(self, key: bytes, plaintext: Plaintext = "raise") -> None:
        self._key = key
        self._aead = AESGCM(key)
        self.plaintext: Plaintext = plaintext
        self.key_id = hashlib.sha256(b"amity-payload-key/1\x00" + key).hexdigest()[:16]

    @classmethod
    def from_base64(cls, value: str, plaintext: Plaintext = "raise") -> AesGcmCodec:
        return cls(parse_key(value), plaintext)

    def with_plaintext(self, plaintext: Plaintext) -> AesGcmCodec:
        """The same key with another rule for unencrypted payloads."""
        return AesGcmCodec(self._key, plaintext)

    def __repr__(self) -> str:
        return f"AesGcmCodec(key_id={self.key_id}, plaintext={self.plaintext})"

    def encode_one(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self.key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self.key_id.encode()},
            data=nonce + sealed,
        )

    def decode_one(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if self.plaintext == "accept":
                return payload
            if self.plaintext == "mark":
                return Payload(
                    metadata={"encoding": PLAINTEXT_REFUSED}, data=PLAINTEXT_REASON.encode()
                )
            raise CodecKeyError(
                "the engine answered with an unencrypted payload while AMITY_PAYLOAD_KEY is"
                " set: its worker has no key, or another key setting"
            )
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


class RefuseSealed(PayloadCodec):
    """The codec of a client or worker without AMITY_PAYLOAD_KEY: encodes nothing, and
    names the missing key when it meets an encrypted payload (instead of the converter's
    "Unknown payload encoding binary/encrypted" traceback)."""

    def __repr__(self) -> str:
        return "RefuseSealed()"

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        for payload in payloads:
            if payload.metadata.get("encoding") == ENCODING:
                raise CodecKeyError(
                    "the engine's payloads are encrypted: set AMITY_PAYLOAD_KEY to the"
                    " engine's payload key to read them"
                )
        return list(payloads)
