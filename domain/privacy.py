"""Personal data under per-person keys, so that one person can be forgotten (crypto-shredding).

With AMITY_PERSONAL_DATA_KEYS=on the store writes the `name` of every person in an event
(proposers, delegations, counterparts, signatories, participants, whoever withdrew or
terminated) encrypted with AES-GCM under a key of that person alone:

    "proposed_by": {"name": {"pd": "<key id>", "ct": "<base64 nonce + ciphertext>"}, ...}

The keys live in one table of the store's own database (`amity_person_keys`: key id, a
digest of the normalised name to find the key when writing, the key, wrapped with
AMITY_STORE_KEY when that is set). `forget(name)` deletes the person's key and scrubs the
freed pages; from then on every stored name of that person reads as FORGOTTEN, while the
stored bytes, and so the audit's Merkle tree, stay exactly as they were.

Free text (notes, outcomes, rationales) is not covered: it is not structured personal data.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

FORGOTTEN = "[forgotten]"
#: Keys whose values are persons (or lists of persons) in events, state and corrections.
PERSON_KEYS = frozenset(
    {"proposed_by", "by", "delegation", "counterparts", "signatories", "participants"}
)
TABLE = "amity_person_keys"
#: How long a process trusts its cached copy of a key (another process may forget it).
CACHE_SECONDS = 5.0
MARKER = b'"pd":'


def normalise(name: str) -> str:
    """The form under which two spellings of one person share a key."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_digest(name: str) -> str:
    return hashlib.sha256(b"amity-person/1\x00" + normalise(name).encode()).hexdigest()


class _Cursor:
    """`?` placeholders and tuple rows on SQLite and PostgreSQL."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw, self.postgres = raw, postgres

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        self.raw.execute(statement.replace("?", "%s") if self.postgres else statement, params)

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self.raw.fetchone()
        if row is None:
            return None
        values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
        return tuple(bytes(v) if isinstance(v, memoryview) else v for v in values)


class PersonalKeys:
    """The per-person key table of one store, with a short-lived in-process cache."""

    def __init__(
        self, datastore: SQLiteDatastore | PostgresDatastore, wrapping_key: bytes | None
    ) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self._wrap = AESGCM(wrapping_key) if wrapping_key else None
        self._by_id: dict[str, tuple[float, bytes | None]] = {}
        self._by_digest: dict[str, tuple[float, str, bytes]] = {}
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _transaction(self, commit: bool) -> Iterator[_Cursor]:
        with self.datastore.transaction(commit=commit) as raw:
            yield _Cursor(raw, self.postgres)

    def ensure_table(self) -> None:
        if self._ready:
            return
        blob = "BYTEA" if self.postgres else "BLOB"
        with self._transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (key_id TEXT PRIMARY KEY,"
                f" digest TEXT NOT NULL UNIQUE, wrapped {blob} NOT NULL)"
            )
        self._ready = True

    # -- keys ---------------------------------------------------------------------------

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        if self._wrap is None:
            return wrapped
        return self._wrap.decrypt(wrapped[:12], wrapped[12:], key_id.encode())

    def _wrap_key(self, key_id: str, key: bytes) -> bytes:
        if self._wrap is None:
            return key
        nonce = os.urandom(12)
        return nonce + self._wrap.encrypt(nonce, key, key_id.encode())

    def key_for(self, name: str) -> tuple[str, bytes]:
        """The person's key (made on first sight): (key id, 32 bytes)."""
        digest = name_digest(name)
        now = time.monotonic()
        with self._lock:
            cached = self._by_digest.get(digest)
            if cached and now - cached[0] < CACHE_SECONDS:
                return cached[1], cached[2]
        self.ensure_table()
        select = f"SELECT key_id, wrapped FROM {TABLE} WHERE digest = ?"  # noqa: S608
        with self._transaction(commit=True) as cursor:
            cursor.execute(select, (digest,))
            row = cursor.fetchone()
            if row is None:
                key_id, key = uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)
                conflict = " ON CONFLICT (digest) DO NOTHING"
                cursor.execute(
                    f"INSERT INTO {TABLE} VALUES (?, ?, ?){conflict}",  # noqa: S608
                    (key_id, digest, self._wrap_key(key_id, key)),
                )
                cursor.execute(select, (digest,))  # another writer may have won the race
                row = cursor.fetchone()
            assert row is not None
            key_id, key = str(row[0]), self._unwrap(str(row[0]), bytes(row[1]))
        with self._lock:
            self._by_digest[digest] = (now, key_id, key)
            self._by_id[key_id] = (now, key)
        return key_id, key

    def key_by_id(self, key_id: str) -> bytes | None:
        """The key, or None once it has been forgotten."""
        now = time.monotonic()
        with self._lock:
            cached = self._by_id.get(key_id)
            if cached and now - cached[0] < CACHE_SECONDS:
                return cached[1]
        self.ensure_table()
        with self._transaction(commit=False) as cursor:
            cursor.execute(f"SELECT wrapped FROM {TABLE} WHERE key_id = ?", (key_id,))  # noqa: S608
            row = cursor.fetchone()
        key = None if row is None else self._unwrap(key_id, bytes(row[0]))
        with self._lock:
            self._by_id[key_id] = (now, key)
        return key

    def forget(self, name: str) -> bool:
        """Delete the person's key (True if there was one) and scrub the freed pages."""
        self.ensure_table()
        digest = name_digest(name)
        with self._transaction(commit=True) as cursor:
            cursor.execute(f"SELECT key_id FROM {TABLE} WHERE digest = ?", (digest,))  # noqa: S608
            row = cursor.fetchone()
            if row is None:
                return False
            cursor.execute(f"DELETE FROM {TABLE} WHERE digest = ?", (digest,))  # noqa: S608
        with self._lock:
            self._by_digest.pop(digest, None)
            self._by_id[str(row[0])] = (time.monotonic(), None)
        self.scrub()
        return True

    def scrub(self) -> None:
        """Rewrite the database so deleted rows leave no bytes behind in free pages."""
        if isinstance(self.datastore, PostgresDatastore):
            with self.datastore.get_connection() as conn:  # autocommit: VACUUM may run
                conn.execute(f"VACUUM FULL {TABLE}")
            return
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- names ----------------------------------------------------------------------------

    def seal(self, name: str) -> dict[str, str]:
        key_id, key = self.key_for(name)
        nonce = os.urandom(12)
        sealed = AESGCM(key).encrypt(nonce, name.encode(), key_id.encode())
        return {"pd": key_id, "ct": base64.b64encode(nonce + sealed).decode()}

    def open(self, sealed: dict[str, Any]) -> str:
        key_id = str(sealed.get("pd"))
        key = self.key_by_id(key_id)
        if key is None:
            return FORGOTTEN
        data = base64.b64decode(str(sealed.get("ct")))
        try:
            return AESGCM(key).decrypt(data[:12], data[12:], key_id.encode()).decode()
        except (InvalidTag, ValueError):
            return FORGOTTEN


def seal_persons(value: Any, keys: PersonalKeys, under_person_key: bool = False) -> Any:
    """A copy of a JSON value with every person's name sealed."""
    if isinstance(value, dict):
        if under_person_key and isinstance(value.get("name"), str):
            return {**value, "name": keys.seal(value["name"])}
        return {k: seal_persons(v, keys, k in PERSON_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [seal_persons(item, keys, under_person_key) for item in value]
    return value


def open_persons(value: Any, keys: PersonalKeys | None) -> Any:
    """A copy of a JSON value with every sealed name opened (or FORGOTTEN)."""
    if isinstance(value, dict):
        if "pd" in value and "ct" in value and len(value) == 2:
            return keys.open(value) if keys is not None else FORGOTTEN
        return {k: open_persons(v, keys) for k, v in value.items()}
    if isinstance(value, list):
        return [open_persons(item, keys) for item in value]
    return value
