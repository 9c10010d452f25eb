"""Personal data under per-person keys, so that one person can be forgotten (crypto-shredding).

With AMITY_PERSONAL_DATA_KEYS=on the store writes the `name` of every person in an event
(proposers, delegations, counterparts, signatories, participants, whoever withdrew or
terminated) encrypted with AES-GCM under a key of that person alone:

    "proposed_by": {"name": {"pd": "<key id>", "ct": "<base64 nonce + ciphertext>"}, ...}

The keys live in one table of the store's own database (`amity_person_keys`: key id, a
keyed digest of the normalised name to find the key when writing, the key, wrapped with
AMITY_STORE_KEY when that is set). The digest is HMAC-SHA256 under a secret that is not
in the database (store/digest_key.py), so reading the table does not let anyone test
candidate names against it.

`forget(name)` empties the person's key in place: the row stays as a tombstone (key id and
digest, no key), so no writer can ever make a new key for that name again. From then on
every stored name of that person reads as FORGOTTEN, and a name that is forgotten is
written as the plain string FORGOTTEN instead of being sealed (new commands, snapshots of
state that a process cached before the forget). The log's bytes, and so the audit's Merkle
tree, stay exactly as they were.

Free text (notes, outcomes, rationales) is not covered: it is not structured personal data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from domain.forgetting import FORGOTTEN, PERSON_KEYS, normalise
from store.sql import Cursor

__all__ = ["FORGOTTEN", "PERSON_KEYS", "PersonalKeys", "normalise", "open_persons", "seal_persons"]

TABLE = "amity_person_keys"
#: Settings of the key table: the digest key's check value (never the key).
META_TABLE = "amity_person_meta"
#: Keyed digests carry this prefix; a digest without it is a plain SHA-256 of an older
#: store, re-keyed in place the first time a process with the digest key opens the table.
KEYED = "h1:"
#: How long a process trusts its cached copy of a key (another process may forget it).
CACHE_SECONDS = 5.0
MARKER = b'"pd":'
#: What `forget` found: the key was there (now a tombstone), was gone already, never was.
FORGOTTEN_NOW, ALREADY_FORGOTTEN, UNKNOWN = "forgotten", "already forgotten", "unknown"


def plain_digest(name: str) -> str:
    """The unkeyed digest older stores used (kept to re-key them, never written again)."""
    return hashlib.sha256(b"amity-person/1\x00" + normalise(name).encode()).hexdigest()


def keyed_digest(digest_key: bytes, plain: str) -> str:
    """HMAC over the plain digest: an old row can be re-keyed without knowing the name."""
    return KEYED + hmac.new(digest_key, plain.encode(), hashlib.sha256).hexdigest()


def check_value(digest_key: bytes) -> str:
    return hmac.new(digest_key, b"amity person digest key check/1", hashlib.sha256).hexdigest()


class DigestKeyMismatch(ValueError):  # noqa: N818 - reads as the situation it names
    """The configured digest key is not the one this store's person keys were made with."""


class PersonalKeys:
    """The per-person key table of one store, with a short-lived in-process cache.

    A key row whose `wrapped` is empty is a tombstone: that person was forgotten.
    `digest_key` is asked for only when a name must be looked up (sealing, forgetting);
    a process that only reads sealed names never needs it.
    """

    def __init__(
        self,
        datastore: SQLiteDatastore | PostgresDatastore,
        wrapping_key: bytes | None,
        digest_key: Callable[[], bytes] | None = None,
    ) -> None:
        self.datastore = datastore
        self.postgres = isinstance(datastore, PostgresDatastore)
        self._wrap = AESGCM(wrapping_key) if wrapping_key else None
        self._digest_key_source = digest_key
        self._digest_key: bytes | None = None
        self._by_id: dict[str, tuple[float, bytes | None]] = {}
        self._by_digest: dict[str, tuple[float, str, bytes | None]] = {}
        self._tombstones: tuple[float, int] | None = None
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _transaction(self, commit: bool) -> Iterator[Cursor]:
        with self.datastore.transaction(commit=commit) as raw:
            yield Cursor(raw, self.postgres)

    def ensure_table(self) -> None:
        if self._ready:
            return
        blob = "BYTEA" if self.postgres else "BLOB"
        with self._transaction(commit=True) as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (key_id TEXT PRIMARY KEY,"
                f" digest TEXT NOT NULL UNIQUE, wrapped {blob} NOT NULL)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE}"
                " (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
        self._ready = True

    # -- digests ------------------------------------------------------------------------

    def digest(self, name: str) -> str:
        """The keyed digest under which the person's key is found."""
        return keyed_digest(self.digest_key(), plain_digest(name))

    def digest_key(self) -> bytes:
        """The digest key, checked against the store and old rows re-keyed (once)."""
        if self._digest_key is not None:
            return self._digest_key
        if self._digest_key_source is None:
            raise DigestKeyMismatch("this store has no person digest key configured")
        key = self._digest_key_source()
        self.ensure_table()
        migrated = 0
        with self._transaction(commit=True) as cursor:
            cursor.execute(f"SELECT value FROM {META_TABLE} WHERE name = 'digest_check'")  # noqa: S608
            row = cursor.fetchone()
            if row is None:
                cursor.execute(
                    f"INSERT INTO {META_TABLE} VALUES ('digest_check', ?)"  # noqa: S608
                    " ON CONFLICT (name) DO NOTHING",
                    (check_value(key),),
                )
                cursor.execute(f"SELECT value FROM {META_TABLE} WHERE name = 'digest_check'")  # noqa: S608
                row = cursor.fetchone()
            if row is None or not hmac.compare_digest(str(row[0]), check_value(key)):
                raise DigestKeyMismatch(
                    "the person digest key is not the one this store's person keys were made"
                    " with (AMITY_PERSON_DIGEST_KEY, AMITY_PERSON_DIGEST_KEY_FILE or"
                    " AMITY_STORE_KEY changed)"
                )
            # Plain digests of an older store: re-key each in place (HMAC of the plain one).
            plain_rows = f"SELECT key_id, digest FROM {TABLE} WHERE substr(digest, 1, 3) <> ?"  # noqa: S608
            cursor.execute(plain_rows, (KEYED,))
            for key_id, plain in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {TABLE} SET digest = ? WHERE key_id = ? AND digest = ?",  # noqa: S608
                    (keyed_digest(key, str(plain)), key_id, plain),
                )
                migrated += 1
        self._digest_key = key
        if migrated:
            self.scrub()  # the plain digests must not stay behind in free pages
        return key

    # -- keys ---------------------------------------------------------------------------

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes | None:
        if not wrapped:
            return None  # a tombstone
        if self._wrap is None:
            return wrapped
        return self._wrap.decrypt(wrapped[:12], wrapped[12:], key_id.encode())

    def _wrap_key(self, key_id: str, key: bytes) -> bytes:
        if self._wrap is None:
            return key
        nonce = os.urandom(12)
        return nonce + self._wrap.encrypt(nonce, key, key_id.encode())

    def key_for(self, name: str) -> tuple[str, bytes] | None:
        """The person's key (made on first sight): (key id, 32 bytes); None if forgotten."""
        digest = self.digest(name)
        self._refresh_tombstones()
        now = time.monotonic()
        with self._lock:
            cached = self._by_digest.get(digest)
            if cached and now - cached[0] < CACHE_SECONDS:
                return None if cached[2] is None else (cached[1], cached[2])
        self.ensure_table()
        select = f"SELECT key_id, wrapped FROM {TABLE} WHERE digest = ?"  # noqa: S608
        with self._transaction(commit=True) as cursor:
            cursor.execute(select, (digest,))
            row = cursor.fetchone()
            if row is None:
                key_id, fresh = uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)
                conflict = " ON CONFLICT (digest) DO NOTHING"
                cursor.execute(
                    f"INSERT INTO {TABLE} VALUES (?, ?, ?){conflict}",  # noqa: S608
                    (key_id, digest, self._wrap_key(key_id, fresh)),
                )
                cursor.execute(select, (digest,))  # another writer may have won the race
                row = cursor.fetchone()
            assert row is not None
            key_id, key = str(row[0]), self._unwrap(str(row[0]), bytes(row[1]))
        with self._lock:
            self._by_digest[digest] = (now, key_id, key)
            self._by_id[key_id] = (now, key)
        return None if key is None else (key_id, key)

    def is_forgotten(self, name: str) -> bool:
        return self.key_for(name) is None

    def key_by_id(self, key_id: str) -> bytes | None:
        """The key, or None once it has been forgotten."""
        self._refresh_tombstones()
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

    def tombstones(self) -> int:
        """How many persons have been forgotten (only grows), re-read every CACHE_SECONDS:
        a change tells a long-running process to drop what it cached before a forget."""
        return self._refresh_tombstones()

    def _refresh_tombstones(self) -> int:
        now = time.monotonic()
        seen = self._tombstones
        if seen is not None and now - seen[0] < CACHE_SECONDS:
            return seen[1]
        self.ensure_table()
        with self._transaction(commit=False) as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE length(wrapped) = 0")  # noqa: S608
            row = cursor.fetchone()
        count = int(row[0]) if row else 0
        with self._lock:
            if seen is not None and count != seen[1]:
                # Someone forgot a person since: no cached key may outlive that.
                self._by_id.clear()
                self._by_digest.clear()
            self._tombstones = (now, count)
        return count

    def forget(self, name: str) -> str:
        """Empty the person's key, keeping the row as a tombstone, and scrub freed pages.

        FORGOTTEN_NOW, ALREADY_FORGOTTEN, or UNKNOWN (the store never keyed that name)."""
        digest = self.digest(name)
        self.ensure_table()
        with self._transaction(commit=True) as cursor:
            cursor.execute(f"SELECT key_id, wrapped FROM {TABLE} WHERE digest = ?", (digest,))  # noqa: S608
            row = cursor.fetchone()
            if row is None:
                return UNKNOWN
            if not bytes(row[1]):
                outcome = ALREADY_FORGOTTEN
            else:
                cursor.execute(f"UPDATE {TABLE} SET wrapped = ? WHERE digest = ?", (b"", digest))  # noqa: S608
                outcome = FORGOTTEN_NOW
        now = time.monotonic()
        with self._lock:
            self._by_digest[digest] = (now, str(row[0]), None)
            self._by_id[str(row[0])] = (now, None)
            self._tombstones = None
        self.scrub()
        return outcome

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

    def seal(self, name: str) -> dict[str, str] | str:
        """The name sealed under the person's key; FORGOTTEN (in clear) once forgotten."""
        if name == FORGOTTEN:
            return name
        found = self.key_for(name)
        if found is None:
            return FORGOTTEN
        key_id, key = found
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
    """A copy of a JSON value with every person's name sealed (or FORGOTTEN)."""
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
