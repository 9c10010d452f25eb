"""`amity forget` against a LIVE worker: the name must not come back.

Attacks: the worker's cached aggregate (and the workflow's own state) still hold the name
in clear after `amity forget`; the next snapshot, the next `status`, the state carried to
the next run by continue-as-new, or a read-model catch-up would write or show it again,
and a new key would be made for it. And a forgotten person named again by a new command
would be sealed under a fresh key, readable for good.

Each test runs a real worker (the `engine` fixture) on a dev server that suggests
continue-as-new after 60 history events, a real SQLite store with personal-data keys on and
a snapshot every 2 events, and runs `amity forget` as a real subprocess while the worker
keeps running.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from asyncio.subprocess import PIPE
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from typer.testing import CliRunner

from amity import story
from amity.audit_cli import app as audit_app
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.settings import Settings, get_settings, open_store
from store import personal_keys as privacy
from store.application import PartnershipStore
from tests.conftest import Engine
from workflows.search import SEARCH_ATTRIBUTES

PERSON = "Jing Dazhong"
#: Any trace of the person: full name, either part, in any case.
NEEDLES = (b"Jing", b"Dazhong", b"jing", b"dazhong", b"JING")
AMITY = str(Path(sys.executable).parent / "amity")
#: Commands after the forget: enough to pass the server's continue-as-new threshold.
LATER_EXCHANGES = 8


@pytest.fixture(scope="module")
def can_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A dev server that suggests continue-as-new early, so a run hands over in seconds."""
    folder = tmp_path_factory.mktemp("forget-temporal")
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "temporal.db",
        log_file=folder / "server.log",
        extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60"],
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def client(can_server: DevServer) -> Client:
    """Overrides the session's client: the `engine` fixture's worker runs on this server."""
    return await connect(Settings(TEMPORAL_ADDRESS=can_server.address))


@pytest.fixture(autouse=True)
def personal_keys_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the `store` fixture opens the store: names sealed, frequent snapshots, and
    a short key cache so the worker's cached key expires within the test."""
    monkeypatch.setenv("AMITY_PERSONAL_DATA_KEYS", "on")
    monkeypatch.setenv("AMITY_SNAPSHOT_INTERVAL", "2")
    monkeypatch.delenv("AMITY_PERSON_DIGEST_KEY", raising=False)
    monkeypatch.delenv("AMITY_STORE_KEY", raising=False)
    monkeypatch.setattr(privacy, "CACHE_SECONDS", 0.2)


async def forget(store: PartnershipStore, server: DevServer, person: str) -> str:
    """`amity forget PERSON` as a real subprocess, without blocking the worker on this loop."""
    env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "AMITY_EVENT_STORE_URL": store.url}
    process = await asyncio.create_subprocess_exec(
        AMITY, "forget", person, env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


def audit(store: PartnershipStore, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """`amity audit ARGS` in this process (a subprocess costs seconds of start-up on a busy
    machine); the worker waits meanwhile, which is harmless: no command is in flight."""
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", store.url)
    monkeypatch.setenv("AMITY_AUDIT_KEY_FILE", str(Path(store.url[10:]).parent / "audit.pem"))
    get_settings.cache_clear()
    result = CliRunner().invoke(audit_app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def raw_store(store: PartnershipStore) -> bytes:
    """Every byte of the SQLite database: the file and its write-ahead log."""
    path = Path(store.url.removeprefix("sqlite:///"))
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def traces(data: bytes | str) -> list[bytes]:
    raw = data.encode() if isinstance(data, str) else data
    return [needle for needle in NEEDLES if needle in raw]


async def status_of(handle: WorkflowHandle[Any, Any]) -> str:
    status = await handle.query("status")
    data = status.model_dump(mode="json") if hasattr(status, "model_dump") else status
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def history_bytes(handle: WorkflowHandle[Any, Any], run_id: str) -> bytes:
    """Every event of one run's Temporal history, payloads included, as the server keeps it."""
    history = await handle.fetch_history()
    assert history.run_id == run_id
    return b"".join(event.SerializeToString() for event in history.events)


async def wait_for_new_run(handle: WorkflowHandle[Any, Any], old_run: str | None) -> str:
    for _ in range(200):
        run_id = (await handle.describe()).run_id
        if run_id is not None and run_id != old_run:
            return run_id
        await asyncio.sleep(0.05)
    raise AssertionError("the partnership did not continue as new after the forget")


def exchange(n: int, participant: str = "Zhang Zhaofu") -> dict[str, Any]:
    return {
        **story.load("record_exchange.json"),
        "request_id": f"later-exchange-{n}",
        "title": f"exchange {n}",
        "participants": [{"name": participant, "side": "partner"}],
    }


async def story_until_signed(engine: Engine, partnership_id: str) -> WorkflowHandle[Any, Any]:
    handle = await engine.start(story.proposal(), partnership_id)
    for command, payload in story.steps()[:5]:  # talks, meeting, draft, approval, signing
        await handle.execute_update(command, payload)
    return handle


def key_rows(store: PartnershipStore) -> list[tuple[str, str, bytes]]:
    path = store.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT key_id, digest, wrapped FROM amity_person_keys"))


async def test_forget_while_the_worker_runs_leaves_no_plaintext_anywhere(
    engine: Engine, can_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = engine.store
    handle = await story_until_signed(engine, "partnership-forget-live")
    first_run = (await handle.describe()).run_id
    assert PERSON in await status_of(handle)
    audit(store, monkeypatch, "stats", "--json")  # read models now hold a readable copy

    out = await forget(store, can_server, PERSON)
    assert out.startswith("forgotten") and "1 told to forget" in out, out
    # the run that held the name hands over at once (retention can then delete it)
    handed_over = await wait_for_new_run(handle, first_run)
    assert traces(await history_bytes(handle, handed_over)) == []

    # the worker goes on with its cached aggregate; a snapshot every 2 events; the
    # server suggests continue-as-new on the way
    for n in range(LATER_EXCHANGES):
        await handle.execute_update("record_exchange", exchange(n))
    latest = await handle.describe()
    assert latest.run_id != first_run, "the partnership did not continue as new"

    status = await status_of(handle)
    assert traces(status) == []
    assert '"proposed_by":{"name":"[forgotten]"' in status
    assert "Zhang Zhaofu" in status  # everyone else is untouched
    assert json.loads(status)["exchange_count"] == LATER_EXCHANGES
    # the new run's history (its input is the carried state) never held the name
    assert traces(await history_bytes(handle, latest.run_id)) == []

    # every reading an auditor has: read models, history, as-of (snapshots), exports
    audit(store, monkeypatch, "stats", "--json")
    out = audit(store, monkeypatch, "history", handle.id, "--format", "json")
    assert "[forgotten]" in out and traces(out) == []
    last = int(json.loads(status)["version"])
    for version in (2, 6, last):  # snapshots written before and after the forget
        assert (
            traces(audit(store, monkeypatch, "as-of", handle.id, "--version", str(version))) == []
        )
    export = tmp_path / "export.jsonl"
    audit(store, monkeypatch, "export", "--format", "jsonl", "--out", str(export), handle.id)
    assert traces(export.read_bytes()) == []
    # Temporal's history and the store still tell the same story, across every run
    monkeypatch.setenv("TEMPORAL_ADDRESS", can_server.address)
    await asyncio.to_thread(audit, store, monkeypatch, "reconcile", handle.id)
    # a fresh reader (no cache) at every version: nothing opens to the name
    fresh = open_store(store.url)
    try:
        for version in range(1, last + 1):
            state = fresh.state(handle.id, version)
            assert state is not None and traces(state.model_dump_json()) == []
    finally:
        fresh.close()
    # the person has one key row, a tombstone: nothing was re-sealed under a new key
    assert [row for row in key_rows(store) if not row[2]] != []
    # and the database's own bytes: log, snapshots, read models, key table, free pages
    assert traces(raw_store(store)) == []


async def test_a_forgotten_person_named_again_is_not_sealed_under_a_new_key(
    engine: Engine, can_server: DevServer
) -> None:
    store = engine.store
    handle = await engine.start(story.proposal(), "partnership-forget-again")
    await handle.execute_update("open_talks", story.load("open_talks.json"))
    keys_before = key_rows(store)
    out = await forget(store, can_server, PERSON)
    assert "1 told to forget" in out, out
    tombstones = [row for row in key_rows(store) if not row[2]]
    assert len(tombstones) == 1

    # named again, spelt otherwise: in a meeting of this partnership and a new proposal
    meeting = story.load("record_meeting.json")
    meeting["delegation"][0]["name"] = "  jing   DAZHONG "
    result = await handle.execute_update("record_meeting", meeting)
    answered = json.dumps(
        result.model_dump(mode="json") if hasattr(result, "model_dump") else result
    )
    assert traces(answered) == []  # the Update's answer
    other = await engine.start(story.proposal(), "partnership-forget-again-2")
    other_status = ""
    for _ in range(100):  # the proposal is recorded by the workflow's first activity
        other_status = await status_of(other)
        if json.loads(other_status)["version"] > 0:
            break
        await asyncio.sleep(0.05)
    assert json.loads(other_status)["version"] > 0
    assert traces(other_status) == [] and traces(await status_of(handle)) == []

    # still one key row for the person, empty; no new key at all (Zhang Zhaofu's is new)
    after = key_rows(store)
    assert [row for row in after if not row[2]] == tombstones
    new_keys = {row[1] for row in after} - {row[1] for row in keys_before}
    assert len(new_keys) == 1  # Zhang Zhaofu, the meeting's counterpart
    # stored as the plain marker: nothing to decrypt, nothing readable
    meeting_event = store.history(handle.id)[-1].event
    assert meeting_event.delegation[0].name == "[forgotten]"  # type: ignore[union-attr]
    assert b'"name":"[forgotten]"' in raw_store(store)
    assert traces(raw_store(store)) == []


def test_forget_with_the_engine_down_forgets_in_the_store_and_says_what_is_left(
    store: PartnershipStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No traceback, one line, exit 2; the store part is done and a rerun is safe."""
    from amity.cli import app
    from tests.audit.conftest import tell_story

    tell_story(store, "partnership-a-b")
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", store.url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["forget", PERSON])
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith("forgotten")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "running partnerships were not told" in result.stderr
    fresh = open_store(store.url)
    try:
        state = fresh.state("partnership-a-b")
        assert state is not None and state.proposed_by.name == "[forgotten]"
    finally:
        fresh.close()
    again = CliRunner().invoke(app, ["forget", PERSON, "--store-only"])
    assert again.exit_code == 0 and again.stdout.startswith("already forgotten")
    get_settings.cache_clear()
