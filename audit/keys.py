"""The Ed25519 key that signs checkpoints: from a file or the environment, else made once.

`AMITY_AUDIT_KEY_FILE` names a PEM (PKCS#8) file; `AMITY_AUDIT_KEY` holds the key itself
(PEM, or the 32-byte seed in base64). Without either, `audit checkpoint` generates a key
under the data directory (beside a SQLite store; `AMITY_DATA_DIR` or `var` otherwise) and
says so in one line; later runs reuse it. Such a generated key signs, but `audit verify`
never trusts it by itself (whoever writes the store can usually replace it too): only a key
configured explicitly (`configured_signing_key`) or a public key from outside is trusted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from runtime.settings import Settings
from store.key_text import key_bytes

KEY_FILE_ENV = "AMITY_AUDIT_KEY_FILE"
KEY_ENV = "AMITY_AUDIT_KEY"
KEY_FILE_NAME = "audit-key.pem"


class AuditKeyError(ValueError):
    """The configured key cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    source: str
    created: bool = False


def data_dir(store_url: str, elsewhere: str) -> Path:
    """Where Amity keeps its files: beside a SQLite store, else `elsewhere` (AMITY_DATA_DIR,
    `var` by default)."""
    if store_url.startswith("sqlite:///") and ":memory:" not in store_url:
        return Path(store_url[len("sqlite:///") :]).expanduser().parent
    return Path(elsewhere)


def _parse(text: bytes, source: str) -> Ed25519PrivateKey:
    stripped = text.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(stripped, password=None)
        except (ValueError, TypeError) as error:
            raise AuditKeyError(f"{source}: not a usable PEM private key ({error})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditKeyError(f"{source}: not an Ed25519 key")
        return key
    seed = key_bytes(stripped, (32,))
    if seed is None:
        raise AuditKeyError(f"{source}: expected a PEM Ed25519 key or a base64 32-byte seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_key(settings: Settings, store_url: str, *, create: bool) -> SigningKey | None:
    """The configured key; a new one under the data dir if `create` and none exists."""
    if settings.audit_key is not None and (value := settings.audit_key.get_secret_value()):
        return SigningKey(_parse(value.encode(), KEY_ENV), KEY_ENV)
    if settings.audit_key_file:
        path = Path(settings.audit_key_file).expanduser()
    else:
        path = data_dir(store_url, settings.data_dir) / KEY_FILE_NAME
    if path.exists():
        try:
            return SigningKey(_parse(path.read_bytes(), str(path)), str(path))
        except OSError as error:
            raise AuditKeyError(f"{path}: {error.strerror}") from None
    if not create:
        return None
    key = Ed25519PrivateKey.generate()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem(key))
    except OSError as error:
        raise AuditKeyError(f"cannot write a new audit key to {path}: {error.strerror}") from None
    return SigningKey(key, str(path), created=True)


def configured_signing_key(settings: Settings) -> SigningKey | None:
    """Only a key named explicitly by AMITY_AUDIT_KEY / AMITY_AUDIT_KEY_FILE (if that file
    exists), never the one generated beside the store."""
    if settings.audit_key is not None and (value := settings.audit_key.get_secret_value()):
        return SigningKey(_parse(value.encode(), KEY_ENV), KEY_ENV)
    file = settings.audit_key_file
    if not file:
        return None
    path = Path(file).expanduser()
    try:
        return SigningKey(_parse(path.read_bytes(), str(path)), f"{KEY_FILE_ENV} ({path})")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise AuditKeyError(f"{path}: {error.strerror}") from None
