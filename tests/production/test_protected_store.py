"""Personal data in the event store: encrypted at rest (AMITY_STORE_KEY), and one person
crypto-shredded by `amity forget` (AMITY_PERSONAL_DATA_KEYS=on) while the history keeps its
shape and the tamper evidence still verifies."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from amity.cli import app
from audit.projections import ReadModels
from runtime.settings import get_settings, open_store
from store.application import StoreConfigError
from tests.audit.conftest import AuditCli, tell_story, verifier_key_of

PIDS = ["partnership-a-b", "partnership-c-d"]
NAMES = [b"Jing Dazhong", b"Zhang Zhaofu"]


def stored_bytes(store_url: str) -> bytes:
    """Everything the database holds: the files for SQLite, every table's rows for PG."""
    if store_url.startswith("sqlite:///"):
        path = Path(store_url.removeprefix("sqlite:///"))
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    dump = b""
    with psycopg.connect(store_url.replace(":@", "@")) as db:
        tables = db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            for row in db.execute(f'SELECT * FROM "{table}"').fetchall():
                dump += b"|".join(
                    bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
                )
    return dump


@pytest.mark.both_stores
def test_store_encrypted_at_rest(
    store_url: str, monkeypatch: pytest.MonkeyPatch, audit_cli: AuditCli, tmp_path: Path
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("AMITY_STORE_KEY", key)
    store = open_store(store_url, snapshot_interval=5)
    try:
        for pid in PIDS:
            tell_story(store, pid)
        state = store.state(PIDS[0])
        assert state is not None and state.proposed_by.name == "Jing Dazhong"
    finally:
        store.close()
    raw = stored_bytes(store_url)
    for secret in [*NAMES, b"Cupertino", b"Mianyang"]:
        assert secret not in raw
    # the audit works on the encrypted log: checkpoint, verify, exports, bundles
    assert audit_cli("checkpoint").exit_code == 0
    assert audit_cli("verify").exit_code == 0
    out = tmp_path / "all.jsonl"
    assert audit_cli("export", "--format", "jsonl", "--out", str(out)).exit_code == 0
    assert "Jing Dazhong" in out.read_text()
    bundle = tmp_path / "bundle.json"
    assert audit_cli("export", "--bundle", "--out", str(bundle), PIDS[0]).exit_code == 0
    assert b"Jing Dazhong" not in bundle.read_bytes()
    pinned = verifier_key_of(tmp_path / "audit-key.pem")
    assert audit_cli("verify", "--bundle", str(bundle), "--public-key", pinned).exit_code == 0
    # without the key, or with a wrong one, nothing reads; the key is never echoed
    monkeypatch.delenv("AMITY_STORE_KEY")
    keyless = open_store(store_url)
    try:
        with pytest.raises(ValueError):
            keyless.state(PIDS[0])
    finally:
        keyless.close()
    monkeypatch.setenv("AMITY_STORE_KEY", key[:20])
    with pytest.raises(StoreConfigError) as bad:
        open_store(store_url)
    assert key[:20] not in str(bad.value)


@pytest.mark.both_stores
def test_forget_shreds_one_person_and_verify_still_passes(
    store_url: str, monkeypatch: pytest.MonkeyPatch, audit_cli: AuditCli, tmp_path: Path
) -> None:
    monkeypatch.setenv("AMITY_PERSONAL_DATA_KEYS", "on")
    # PostgreSQL has no "beside the store" to keep a generated digest key in: configured.
    monkeypatch.setenv("AMITY_PERSON_DIGEST_KEY", base64.b64encode(os.urandom(32)).decode())
    store = open_store(store_url, snapshot_interval=5)
    for pid in PIDS:
        tell_story(store, pid)
    ReadModels(store).catch_up()
    shape = [(e.originator_version, e.event.type, e.request_id) for e in store.history(PIDS[0])]
    assert store.history(PIDS[0])[0].event.proposed_by.name == "Jing Dazhong"  # type: ignore[union-attr]
    store.close()
    # sealed in the log and snapshots from the start (read models keep readable copies)
    assert audit_cli("checkpoint").exit_code == 0
    before = audit_cli("verify")
    assert before.exit_code == 0, before.stdout + before.stderr

    get_settings.cache_clear()
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", store_url)
    forgot = CliRunner().invoke(app, ["forget", "Jing Dazhong", "--store-only"])
    assert forgot.exit_code == 0, forgot.output
    assert forgot.stdout.startswith("forgotten")
    again = CliRunner().invoke(app, ["forget", "Jing Dazhong", "--store-only"])
    assert again.exit_code == 0 and again.stdout.startswith("already forgotten")
    nobody = CliRunner().invoke(app, ["forget", "Nobody Known", "--store-only"])
    assert nobody.exit_code == 2 and "no personal data key" in nobody.stderr

    raw = stored_bytes(store_url)
    assert b"Jing Dazhong" not in raw
    assert b"Jing" not in raw
    reopened = open_store(store_url)
    try:
        history = reopened.history(PIDS[0])
        assert [(e.originator_version, e.event.type, e.request_id) for e in history] == shape
        assert history[0].event.proposed_by.name == "[forgotten]"  # type: ignore[union-attr]
        state = reopened.state(PIDS[1])
        assert state is not None
        assert state.proposed_by.name == "[forgotten]"
        assert state.proposed_by.title == "Vice Mayor"  # the rest of the record is intact
        signatories = {s.name for s in state.signing.signatories}  # type: ignore[union-attr]
        assert signatories == {"[forgotten]", "Zhang Zhaofu"}
        assert state.initiator.name == "Mianyang" and state.stage == "active"
    finally:
        reopened.close()
    # tamper evidence: the bytes did not change, so verify still passes
    after = audit_cli("verify")
    assert after.exit_code == 0, after.stdout + after.stderr
    assert after.stdout.startswith("OK: 22 entries")
    for fmt in ("jsonl", "csv", "html"):
        out = tmp_path / f"export.{fmt}"
        assert audit_cli("export", "--format", fmt, "--out", str(out)).exit_code == 0
        text = out.read_text()
        assert "Jing Dazhong" not in text and "Jing" not in text
        assert "Zhang Zhaofu" in text
    stats = audit_cli("stats", "--json")
    assert json.loads(stats.stdout)["pipeline_by_stage"] == {"active": 2}
