"""The secret key of person digests (HMAC-SHA256), kept out of the database.

The person-key table finds a person's key by a digest of their normalised name. A plain
hash would let anyone who reads the table test a list of candidate names against it, so
the digest is keyed, and the key is never stored in the database. In this order:

1. `AMITY_PERSON_DIGEST_KEY`: base64 of 32 random bytes;
2. `AMITY_PERSON_DIGEST_KEY_FILE`: a file holding that (made, mode 0600, if missing);
3. derived from `AMITY_STORE_KEY` (HKDF-SHA256) when the store is encrypted at rest;
4. for a SQLite store: the file `person-digest.key` beside the database, made on first use.

A PostgreSQL store without one of 1-3 is refused: workers on several machines would each
make their own key and stop finding each other's persons. The store keeps a check value
(an HMAC of a constant) so a changed key is refused instead of silently re-keying people.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from store.key_text import key_bytes

KEY_ENV = "AMITY_PERSON_DIGEST_KEY"
KEY_FILE_ENV = "AMITY_PERSON_DIGEST_KEY_FILE"
KEY_FILE_NAME = "person-digest.key"
KEY_BYTES = 32


class DigestKeyError(ValueError):
    """The digest key cannot be had; the message says why in one line (never the key)."""


def _decode(text: str, source: str) -> bytes:
    key = key_bytes(text, (KEY_BYTES,))
    if key is None:
        raise DigestKeyError(f"{source} must be base64 of {KEY_BYTES} random bytes")
    return key


def _from_file(path: Path, source: str) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(fresh)
    try:
        text = path.read_text()
    except OSError as error:
        raise DigestKeyError(f"{source}: cannot read {path} ({error.strerror})") from None
    return _decode(text, f"{source} ({path})")


def derive_from_store_key(store_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"amity person digest/1"
    ).derive(store_key)


def digest_key(
    key: str | None, key_file: str | None, sqlite_path: str | None, store_key: bytes | None
) -> bytes:
    """The digest key from the settings (see the module's docstring for the order)."""
    if key:
        return _decode(key, KEY_ENV)
    if key_file:
        return _from_file(Path(key_file).expanduser(), KEY_FILE_ENV)
    if store_key is not None:
        return derive_from_store_key(store_key)
    if sqlite_path == ":memory:":
        return os.urandom(KEY_BYTES)  # the database lives as long as this process
    if sqlite_path:
        return _from_file(Path(sqlite_path).with_name(KEY_FILE_NAME), "person digest key")
    raise DigestKeyError(
        "AMITY_PERSONAL_DATA_KEYS on PostgreSQL needs AMITY_PERSON_DIGEST_KEY"
        " (base64 of 32 bytes, the same for every process) or AMITY_STORE_KEY"
    )
