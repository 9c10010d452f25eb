"""Person digests are keyed: reading the key table does not let anyone test names.

Attack: whoever reads the database (a backup, a stolen file, a read-only replica) hashes a
list of candidate names the way Amity used to (SHA-256 of a fixed prefix and the
normalised name) and looks them up in `amity_person_keys`: every hit says "this person is
in the store" (and, for a tombstone, "this person asked to be forgotten").
"""

from __future__ import annotations

import base64
import hashlib
import os
import sqlite3
import stat
from pathlib import Path

import psycopg
import pytest

from runtime.settings import open_store
from store.application import StoreConfigError
from store.personal_keys import KEYED, normalise, plain_digest
from tests.audit.conftest import tell_story
from tests.production.postgres import PostgresServer

PERSONS = ["Jing Dazhong", "Zhang Zhaofu"]
CANDIDATES = [*PERSONS, "jing dazhong", "JING  DAZHONG", "Li Wei", "Wang Fang", "Mianyang"]


@pytest.fixture(autouse=True)
def personal_keys_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMITY_PERSONAL_DATA_KEYS", "on")
    monkeypatch.delenv("AMITY_PERSON_DIGEST_KEY", raising=False)
    monkeypatch.delenv("AMITY_PERSON_DIGEST_KEY_FILE", raising=False)
    monkeypatch.delenv("AMITY_STORE_KEY", raising=False)


def db_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def digests(url: str) -> list[str]:
    with sqlite3.connect(db_path(url)) as db:
        return [row[0] for row in db.execute("SELECT digest FROM amity_person_keys")]


def guesses(name: str) -> set[str]:
    """What an attacker computes for one candidate name."""
    plain = name.encode()
    folded = normalise(name).encode()
    return {
        hashlib.sha256(b"amity-person/1\x00" + folded).hexdigest(),  # Amity's old digest
        hashlib.sha256(folded).hexdigest(),
        hashlib.sha256(plain).hexdigest(),
    }


def test_a_dictionary_attack_on_the_key_table_finds_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    store = open_store(url)
    try:
        tell_story(store, "partnership-a-b")
        keys = store.personal_keys()
        found = {name: keys.key_for(name) for name in PERSONS}
    finally:
        store.close()
    table = digests(url)
    assert all(found.values()) and len(table) == 4  # the story names four persons
    stored = {d.removeprefix(KEYED) for d in table} | set(table)
    for candidate in CANDIDATES:
        assert not guesses(candidate) & stored, candidate
    # the digest key is not in the database, neither raw nor in base64
    key_file = tmp_path / "person-digest.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = base64.b64decode(key_file.read_text())
    raw = db_path(url).read_bytes()
    assert secret not in raw and key_file.read_text().strip().encode() not in raw
    # a second process with the same key finds the same persons' keys (no new ones)
    again = open_store(url)
    try:
        assert {name: again.personal_keys().key_for(name) for name in PERSONS} == found
    finally:
        again.close()
    assert sorted(digests(url)) == sorted(table)


def test_plain_digests_of_an_older_store_are_rekeyed_and_keep_working(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    store = open_store(url)
    try:
        tell_story(store, "partnership-a-b")
        ids = {}
        for name in PERSONS:
            found = store.personal_keys().key_for(name)
            assert found is not None
            ids[name] = found[0]
    finally:
        store.close()
    # the store as the previous release wrote it: plain SHA-256 digests, no check value
    with sqlite3.connect(db_path(url)) as db:
        for name, key_id in ids.items():
            db.execute(
                "UPDATE amity_person_keys SET digest = ? WHERE key_id = ?",
                (plain_digest(name), key_id),
            )
        db.execute("DROP TABLE amity_person_meta")
    assert all(plain_digest(name) in digests(url) for name in PERSONS)

    upgraded = open_store(url)
    try:
        assert all(d.startswith(KEYED) for d in digests(url))
        state = upgraded.state("partnership-a-b")
        assert state is not None and state.proposed_by.name == "Jing Dazhong"
        for name, key_id in ids.items():  # the same key: old names open, new ones reuse it
            found = upgraded.personal_keys().key_for(name)
            assert found is not None and found[0] == key_id
        assert upgraded.forget("Jing Dazhong") == "forgotten"
        state = upgraded.state("partnership-a-b")
        assert state is not None and state.proposed_by.name == "[forgotten]"
    finally:
        upgraded.close()
    raw = db_path(url).read_bytes() + (
        db_path(url).with_name("events.db-wal").read_bytes()
        if db_path(url).with_name("events.db-wal").exists()
        else b""
    )
    for name in PERSONS:  # the plain digests left no copy in free pages
        assert plain_digest(name).encode() not in raw


def test_a_changed_digest_key_is_refused_not_silently_rekeyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    store = open_store(url)
    try:
        tell_story(store, "partnership-a-b")
    finally:
        store.close()
    other = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("AMITY_PERSON_DIGEST_KEY", other)
    with pytest.raises(StoreConfigError) as refused:
        open_store(url)
    message = str(refused.value)
    assert "digest key" in message and "\n" not in message and other not in message
    monkeypatch.setenv("AMITY_PERSON_DIGEST_KEY", "too-short")
    with pytest.raises(StoreConfigError, match="base64 of 32 random bytes"):
        open_store(url)


def test_postgresql_needs_a_configured_digest_key(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file "beside the store" on PostgreSQL: workers on several machines would each
    make their own key, so the store refuses to start without one, in one line."""
    url = postgres.new_database()
    with pytest.raises(StoreConfigError) as refused:
        open_store(url)
    assert "AMITY_PERSON_DIGEST_KEY" in str(refused.value) and "\n" not in str(refused.value)
    monkeypatch.setenv("AMITY_PERSON_DIGEST_KEY", base64.b64encode(os.urandom(32)).decode())
    store = open_store(url)
    try:
        tell_story(store, "partnership-a-b")
    finally:
        store.close()
    with psycopg.connect(url.replace(":@", "@")) as db:
        table = [row[0] for row in db.execute("SELECT digest FROM amity_person_keys")]
    assert len(table) == 4 and all(d.startswith(KEYED) for d in table)
    stored = {d.removeprefix(KEYED) for d in table}
    for candidate in CANDIDATES:
        assert not guesses(candidate) & stored, candidate
