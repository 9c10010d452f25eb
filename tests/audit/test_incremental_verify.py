"""`audit verify --state FILE`: a verify that goes on from a saved tree state reads only the
new entries, yet catches a tampered new entry; a tampered old entry (which the state
covers, and so trusts) is still caught by a full verify."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from store.application import PartnershipStore
from tests.audit.conftest import AuditCli, tell_story

SIZE = 22  # two stories of 11 events


@pytest.fixture
def db_path(store: PartnershipStore, audit_cli: AuditCli, store_url: str) -> Path:
    for pid in ("partnership-a-b", "partnership-c-d"):
        tell_story(store, pid)
    assert audit_cli("checkpoint").exit_code == 0
    return Path(store_url.removeprefix("sqlite:///"))


def edit(db_file: Path, rowid: int) -> None:
    with sqlite3.connect(db_file) as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE rowid = ?", (rowid,)
        ).fetchone()
        changed = bytes(state).replace(b"Cupertino", b"Cupertin0", 1)
        assert changed != bytes(state)
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (changed, rowid))
    db.close()


def test_a_verify_from_the_saved_state_reads_only_new_entries_and_catches_a_new_edit(
    db_path: Path, store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path
) -> None:
    state = tmp_path / "verify-state.json"
    first = audit_cli("verify", "--state", str(state))  # no state yet: a full verify
    assert first.exit_code == 0, first.stdout + first.stderr
    assert json.loads(state.read_text())["size"] == SIZE
    tell_story(store, "partnership-e-f")
    assert audit_cli("checkpoint").exit_code == 0
    again = audit_cli("verify", "--state", str(state), "--json")
    assert again.exit_code == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    assert (report["resumed_from"], report["size"]) == (SIZE, SIZE + 11)
    assert json.loads(state.read_text())["size"] == SIZE + 11  # the state moved on
    tell_story(store, "partnership-g-h")
    assert audit_cli("checkpoint").exit_code == 0
    edit(db_path, SIZE + 11 + 3)  # a new entry, after the state: rowid 36, position 35
    caught = audit_cli("verify", "--state", str(state))
    assert caught.exit_code == 1, caught.stdout
    assert re.search(r"first bad position 35\b", caught.stderr), caught.stderr
    assert json.loads(state.read_text())["size"] == SIZE + 11  # a failed verify saves nothing


def test_an_old_edit_is_trusted_from_the_state_but_caught_by_a_full_verify(
    db_path: Path, store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path
) -> None:
    state = tmp_path / "verify-state.json"
    assert audit_cli("verify", "--state", str(state)).exit_code == 0
    tell_story(store, "partnership-e-f")
    assert audit_cli("checkpoint").exit_code == 0
    edit(db_path, 5)  # an old entry: the state covers it
    incremental = audit_cli("verify", "--state", str(state))
    assert incremental.exit_code == 0, incremental.stdout  # what the state trusts
    assert "went on from the saved tree state at 22 entries" in incremental.stdout
    full = audit_cli("verify")
    assert full.exit_code == 1
    assert re.search(r"first bad position 4\b", full.stderr), full.stderr


def test_a_state_that_is_not_its_checkpoint_s_tree_is_refused(
    db_path: Path, audit_cli: AuditCli, tmp_path: Path
) -> None:
    state = tmp_path / "verify-state.json"
    assert audit_cli("verify", "--state", str(state)).exit_code == 0
    saved = json.loads(state.read_text())
    saved["frontier"][0] = "00" * 32  # a forged frontier would hide rewritten entries
    state.write_text(json.dumps(saved))
    refused = audit_cli("verify", "--state", str(state))
    assert refused.exit_code == 2
    assert "do not give its checkpoint's root" in refused.stderr
    state.write_text("{not json")
    assert audit_cli("verify", "--state", str(state)).exit_code == 2


def test_a_rewritten_last_entry_of_the_state_is_caught(
    db_path: Path, audit_cli: AuditCli, tmp_path: Path
) -> None:
    state = tmp_path / "verify-state.json"
    assert audit_cli("verify", "--state", str(state)).exit_code == 0
    edit(db_path, SIZE)  # the entry the state ends with (rowid 22)
    result = audit_cli("verify", "--state", str(state))
    assert result.exit_code == 1
    assert "the last entry of the saved tree state" in result.stdout
