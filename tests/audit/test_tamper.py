"""Tamper evidence: every kind of rewrite done directly in the SQLite file is caught and
located (`audit verify` exits 1 naming the first bad position); an untouched log passes."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import audit.verify
from store.application import PartnershipStore
from tests.audit.conftest import AuditCli, tell_story, verifier_key_of

PARTNERSHIPS = ["partnership-a-b", "partnership-c-d", "partnership-e-f"]
SIZE = 33  # three stories of 11 events


@pytest.fixture
def checkpointed(store: PartnershipStore, audit_cli: AuditCli, store_url: str) -> Path:
    for pid in PARTNERSHIPS:
        tell_story(store, pid)
    made = audit_cli("checkpoint")
    assert made.exit_code == 0, made.stderr
    assert "generated a new audit signing key" in made.stderr
    assert f"\n{SIZE}\n" in made.stdout
    return Path(store_url.removeprefix("sqlite:///"))


def first_bad(stderr: str) -> int:
    found = re.search(r"first bad position (\d+)", stderr)
    assert found, stderr
    return int(found.group(1))


def edit_bytes(db: sqlite3.Connection) -> None:
    (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = 5").fetchone()
    changed = bytes(state).replace(b"Cupertino", b"Cupertin0", 1)
    assert changed != bytes(state)
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = 5", (changed,))


def delete_one(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE rowid = 7")


def swap_two(db: sqlite3.Connection) -> None:
    rows = dict(db.execute("SELECT rowid, state FROM stored_events WHERE rowid IN (3, 9)"))
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (rows[9],))
    db.execute("UPDATE stored_events SET state = ? WHERE rowid = 9", (rows[3],))


def insert_forged(db: sqlite3.Connection) -> None:
    # Make room at rowid 12 (the log's position 11), then forge an event there.
    db.execute("UPDATE stored_events SET rowid = rowid + 1000 WHERE rowid >= 12")
    db.execute("UPDATE stored_events SET rowid = rowid - 999 WHERE rowid >= 1000")
    originator, state = db.execute(
        "SELECT originator_id, state FROM stored_events WHERE rowid = 11"
    ).fetchone()
    db.execute(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state)"
        " VALUES (12, ?, 99, 'domain.aggregate:PartnershipEvent', ?)",
        (originator, state),
    )


def truncate(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM stored_events WHERE rowid > 20")


@pytest.fixture(params=["in-process", "helper"])
def tree_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Where verify hashes the tree above the leaves: here, or in a helper process (what
    it does for a big log, forced here for a small one)."""
    if request.param == "helper":
        monkeypatch.setattr(audit.verify, "HELPER_FROM", 0)
    return str(request.param)


@pytest.mark.parametrize(
    ("tamper", "position"),
    [
        (edit_bytes, 4),
        (delete_one, 6),
        (swap_two, 2),
        (insert_forged, 11),
        (truncate, 20),
    ],
    ids=["edit", "delete", "swap", "insert", "truncate"],
)
def test_tampering_is_caught_and_located(
    tree_hashing: str,
    checkpointed: Path,
    audit_cli: AuditCli,
    tamper: Callable[[sqlite3.Connection], None],
    position: int,
) -> None:
    assert audit_cli("verify").exit_code == 0
    with sqlite3.connect(checkpointed) as db:
        tamper(db)
    db.close()
    result = audit_cli("verify")
    assert result.exit_code == 1, result.stdout
    assert first_bad(result.stderr) == position
    assert f"FAIL position {position} " in result.stdout
    # and nobody can paper over it with a fresh checkpoint
    assert audit_cli("checkpoint").exit_code == 1


def test_untouched_log_verifies_and_growth_is_fine(
    checkpointed: Path, store: PartnershipStore, audit_cli: AuditCli
) -> None:
    result = audit_cli("verify")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"OK: {SIZE} entries")
    tell_story(store, "partnership-g-h")
    grown = audit_cli("verify")  # growth is fine, but entries no checkpoint covers are not
    assert grown.exit_code == 1
    assert "FAIL 11 entries are unwitnessed" in grown.stdout
    allowed = audit_cli("verify", "--allow-unwitnessed")
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr
    assert "(11 entries after the last one)" in allowed.stdout
    assert audit_cli("checkpoint").exit_code == 0
    assert "2 checkpoint(s) consistent" in audit_cli("verify").stdout


def test_a_forged_checkpoint_signature_fails(checkpointed: Path, audit_cli: AuditCli) -> None:
    with sqlite3.connect(checkpointed) as db:
        (note,) = db.execute("SELECT note FROM amity_checkpoints").fetchone()
        forged = note.replace(f"\n{SIZE}\n", f"\n{SIZE - 1}\n")
        db.execute("UPDATE amity_checkpoints SET note = ?", (forged,))
    db.close()
    result = audit_cli("verify")
    assert result.exit_code == 1
    assert "signature does not verify" in result.stdout


def test_an_offline_bundle_verifies_and_one_changed_byte_fails(
    checkpointed: Path, audit_cli: AuditCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "evidence.json"
    made = audit_cli("export", "--bundle", "--out", str(bundle), "partnership-c-d")
    assert made.exit_code == 0, made.stderr
    # offline: no database at all
    checkpointed.unlink()
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", "sqlite:////nonexistent/dir/events.db")
    pinned = verifier_key_of(tmp_path / "audit-key.pem")
    ok = audit_cli("verify", "--bundle", str(bundle), "--public-key", pinned)
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"OK: 11 entries included in the signed tree of {SIZE}")
    assert "partnership partnership-c-d: versions 1..11, complete" in ok.stdout
    data = bundle.read_bytes()
    at = data.index(b'"state": "') + len(b'"state": "') + 20
    flipped = data[:at] + (b"A" if data[at : at + 1] != b"A" else b"B") + data[at + 1 :]
    bundle.write_bytes(flipped)
    bad = audit_cli("verify", "--bundle", str(bundle), "--public-key", pinned)
    assert bad.exit_code == 1
    assert "not included in the signed tree" in bad.stdout
    not_json = tmp_path / "x.json"
    not_json.write_text("{}")
    assert audit_cli("verify", "--bundle", str(not_json), "--public-key", pinned).exit_code == 2
