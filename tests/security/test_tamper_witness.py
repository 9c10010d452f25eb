"""Attacks on the audit by whoever can write the store (and may hold the signing key).

Each test fills a real SQLite store, checkpoints it as the signer host would (its own key
file, publishing to the CheckpointWitness on the real dev server through a real worker),
then attacks the database file directly and runs `amity audit verify` as an auditor
would: without the signing key, trusting the key the witness pinned, a published public
key, or checkpoints saved earlier. The CLI runs in-process in a thread (the test's worker
keeps running on the test's loop), as in tests/cli/test_commands.py.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from amity.audit_cli import app
from audit.log import entries
from audit.publish import latest
from runtime.settings import Settings, get_settings, open_store
from tests.audit.conftest import tell_story
from tests.conftest import Engine
from tlog import note
from tlog.merkle import Tree
from tlog.witness import schedule_id, witness_id

runner = CliRunner()
PIDS = ["partnership-a-b", "partnership-c-d"]
SIZE = 22  # two stories of 11 events
AUDIT_VARIABLES = (
    "AMITY_AUDIT_KEY",
    "AMITY_AUDIT_KEY_FILE",
    "AMITY_AUDIT_PUBLIC_KEY",
    "AMITY_AUDIT_WITNESS",
)


class Hosts:
    """The signer host (holds the key, runs `audit checkpoint`) and an auditor (no key)."""

    def __init__(self, settings: Settings, engine: Engine, store_url: str, tmp: Path) -> None:
        self.origin = f"amity.test/{uuid.uuid4().hex[:12]}"  # one witness per test
        self.db = Path(store_url.removeprefix("sqlite:///"))
        self.key_file = tmp / "signer" / "audit-key.pem"
        self.key_file.parent.mkdir()
        self.client = engine.client
        self.base: dict[str, str | None] = {
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "AMITY_TASK_QUEUE": engine.task_queue,
            "AMITY_EVENT_STORE_URL": store_url,
            "AMITY_AUDIT_ORIGIN": self.origin,
            "COLUMNS": "400",
            **dict.fromkeys(AUDIT_VARIABLES),
        }

    async def _run(self, env: dict[str, str | None], args: tuple[str, ...]) -> Any:
        def invoke() -> Any:
            get_settings.cache_clear()
            try:
                return runner.invoke(app, list(args), env=env)
            finally:
                get_settings.cache_clear()

        result = await asyncio.to_thread(invoke)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert "Traceback" not in result.stdout + result.stderr
        return result

    async def signer(self, *args: str, **env: str | None) -> Any:
        return await self._run(
            {**self.base, "AMITY_AUDIT_KEY_FILE": str(self.key_file), **env}, args
        )

    async def auditor(self, *args: str, **env: str | None) -> Any:
        return await self._run({**self.base, **env}, args)

    def public_key(self) -> str:
        """The signer's verifier key, as it would be published to auditors."""
        from audit.keys import _parse

        key = _parse(self.key_file.read_bytes(), "key")
        return note.verifier_key(self.origin, key.public_key())

    def sql(self, *statements: str) -> None:
        with sqlite3.connect(self.db) as db:
            for statement in statements:
                db.execute(statement)
        db.close()


@pytest.fixture
async def hosts(settings: Settings, engine: Engine, store_url: str, tmp_path: Path) -> Hosts:
    for pid in PIDS:
        tell_story(engine.store, pid)
    made = Hosts(settings, engine, store_url, tmp_path)
    first = await made.signer("checkpoint")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert f"witnessed by {witness_id(made.origin)}: it holds {SIZE} entries" in first.stdout
    return made


EDIT_EVENT = (
    "UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), 'Cupertino',"
    " 'Cupertin0') AS BLOB) WHERE rowid = 5"
)
DELETE_CHECKPOINTS = ("DELETE FROM amity_checkpoints", "DELETE FROM amity_witness")


def one_line(result: Any) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("amity: ")
    return lines[0]


async def test_tamper_edit_and_deleted_checkpoints_are_caught_by_the_witness(
    hosts: Hosts,
) -> None:
    clean = await hosts.auditor("verify")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert "the key the witness pinned (trust on first use)" in clean.stdout

    hosts.sql(EDIT_EVENT, *DELETE_CHECKPOINTS)

    # what verify did before: keys and checkpoints from the store alone, nothing to hold to
    store_only = await hosts.auditor(
        "verify", "--no-witness", "--allow-unwitnessed", "--public-key", hosts.public_key()
    )
    assert store_only.exit_code == 0, store_only.stdout
    assert "0 checkpoint(s)" in store_only.stdout

    caught = await hosts.auditor("verify")
    assert caught.exit_code == 1, caught.stdout
    assert (
        f"the log was rewritten or forked: it is not consistent with the witness"
        f" {witness_id(hosts.origin)} (size {SIZE}" in caught.stdout
    )
    assert "verify found" in one_line(caught)


async def test_tamper_rewrite_then_checkpoint_again_is_refused_by_the_witness(
    hosts: Hosts,
) -> None:
    hosts.sql(EDIT_EVENT, *DELETE_CHECKPOINTS)
    again = await hosts.signer("checkpoint")
    assert again.exit_code == 1, again.stdout + again.stderr
    line = one_line(again)
    assert f"is stored but the witness {witness_id(hosts.origin)} refused it" in line
    assert "not consistent with the witnessed checkpoint of size 22" in line
    held = await latest(hosts.client, hosts.origin)
    assert held is not None and held.size == SIZE and held.count == 1  # nothing recorded

    # the store's own (fresh, validly signed) checkpoint passes; the witness's does not
    caught = await hosts.auditor("verify", "--public-key", hosts.public_key())
    assert caught.exit_code == 1, caught.stdout
    assert "checkpoint #1" not in caught.stdout  # the store's checkpoint itself is fine
    assert "not consistent with the witness" in caught.stdout


async def test_tamper_rewrite_resigned_with_a_foreign_key_fails_with_the_pinned_key(
    hosts: Hosts, store_url: str
) -> None:
    hosts.sql(EDIT_EVENT, *DELETE_CHECKPOINTS)
    store = open_store(store_url)
    try:
        tree = Tree()
        for entry in entries(store):
            tree.append(entry.leaf)
    finally:
        store.close()
    foreign = Ed25519PrivateKey.generate()
    signed = note.sign(note.body(hosts.origin, tree.size, tree.root()), hosts.origin, foreign)
    public = note.verifier_key(hosts.origin, foreign.public_key())
    hosts.sql(
        "INSERT INTO amity_checkpoints VALUES"
        f" (1, {tree.size}, '{signed}', '{public}', '{datetime.now(UTC).isoformat()}')"
    )
    for trusting in ((), ("--public-key", hosts.public_key())):
        caught = await hosts.auditor("verify", *trusting)
        assert caught.exit_code == 1, caught.stdout
        assert "checkpoint #1: signature does not verify with key" in caught.stdout
        assert "not consistent with the witness" in caught.stdout
    # and the attacker's key, given as the trusted one, does not fool the witness either
    fooled = await hosts.auditor("verify", "--public-key", public)
    assert fooled.exit_code == 1
    assert f"the witness {witness_id(hosts.origin)}: signature does not verify" in fooled.stdout


async def test_tamper_no_trusted_key_is_refused_and_a_wrong_origin_fails(hosts: Hosts) -> None:
    # only the store's keys (and a generated key file beside it): nothing outside to trust
    refused = await hosts.auditor("verify", "--no-witness")
    assert refused.exit_code == 2
    assert "no trusted key" in one_line(refused)
    published = await hosts.auditor(
        "verify", "--no-witness", AMITY_AUDIT_PUBLIC_KEY=hosts.public_key()
    )
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "signatures checked with AMITY_AUDIT_PUBLIC_KEY" in published.stdout
    never_witnessed = await hosts.auditor("verify", AMITY_AUDIT_ORIGIN="amity.test/other-log")
    assert never_witnessed.exit_code == 2
    assert "no trusted key" in one_line(never_witnessed)

    # the signer's key configured, but the auditor expects another log: every checkpoint
    # here names the wrong origin (a discrepancy, exit 1)
    wrong = await hosts.signer("verify", "--no-witness", AMITY_AUDIT_ORIGIN="amity.test/other-log")
    assert wrong.exit_code == 1, wrong.stdout + wrong.stderr
    assert f"origin '{hosts.origin}' is not the expected 'amity.test/other-log'" in wrong.stdout
    # a trusted key named for another log is a usage mistake (exit 2)
    mismatched = await hosts.auditor(
        "verify", "--public-key", hosts.public_key(), AMITY_AUDIT_ORIGIN="amity.test/other-log"
    )
    assert mismatched.exit_code == 2
    assert "expected origin is 'amity.test/other-log'" in one_line(mismatched)


async def test_tamper_truncation_and_fork_against_saved_checkpoints(
    hosts: Hosts, tmp_path: Path, engine: Engine
) -> None:
    first = tmp_path / "auditor-first.note"
    saved = await hosts.signer("checkpoint", "--out", str(first))  # already covers all: re-saved
    assert saved.exit_code == 0, saved.stderr
    tell_story(engine.store, "partnership-e-f")
    second = tmp_path / "auditor-second.note"
    grown = await hosts.signer("checkpoint")
    assert grown.exit_code == 0, grown.stdout + grown.stderr
    kept = await hosts.auditor("verify", "--save-checkpoint", str(second))
    assert kept.exit_code == 0, kept.stdout + kept.stderr
    assert note.parse(second.read_text()).size == SIZE + 11
    trusted = ("--trusted", str(first), "--trusted", str(second))
    offline = ("--no-witness", "--public-key", hosts.public_key())
    ok = await hosts.auditor("verify", *offline, *trusted)
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "2 trusted file(s)" in ok.stdout

    # truncation: the last story is gone (and every stored checkpoint with it)
    hosts.sql("DELETE FROM stored_events WHERE rowid > 25", *DELETE_CHECKPOINTS)
    truncated = await hosts.auditor("verify", *offline, *trusted, "--allow-unwitnessed")
    assert truncated.exit_code == 1
    assert f"log truncated: trusted checkpoint {second} signed 33 entries" in truncated.stdout

    # a fork: event 5 rewritten and the log re-signed with the real key (the signer is not
    # trusted), so every stored checkpoint agrees with the forked log
    hosts.sql(EDIT_EVENT)
    resigned = await hosts.signer("checkpoint", "--no-witness")
    assert resigned.exit_code == 0, resigned.stdout + resigned.stderr
    forked = await hosts.auditor("verify", *offline, "--trusted", str(first))
    assert forked.exit_code == 1
    assert (
        f"the log was rewritten or forked: it is not consistent with trusted checkpoint {first}"
        in forked.stdout
    )
    # the store's leaf hashes were replaced too: only the range can be named
    assert "somewhere before position 22" in one_line(forked)


async def test_tamper_entries_after_the_last_checkpoint_are_unwitnessed(
    hosts: Hosts, engine: Engine
) -> None:
    tell_story(engine.store, "partnership-e-f")
    unwitnessed = await hosts.auditor("verify")
    assert unwitnessed.exit_code == 1
    assert "FAIL 11 entries are unwitnessed" in unwitnessed.stdout
    allowed = await hosts.auditor("verify", "--allow-unwitnessed")
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr
    assert "(11 entries after the last one)" in allowed.stdout

    # signed and stored but not witnessed (Temporal unreachable) is still unwitnessed
    down = await hosts.signer("checkpoint", TEMPORAL_ADDRESS="127.0.0.1:9")
    assert down.exit_code == 2
    assert "is stored but NOT witnessed" in one_line(down)
    unreachable = await hosts.auditor("verify", TEMPORAL_ADDRESS="127.0.0.1:9")
    assert unreachable.exit_code == 2
    assert "pass --no-witness to verify without it" in one_line(unreachable)
    assert (await hosts.auditor("verify")).exit_code == 1
    # once the witness is reachable, the same checkpoint is published and accepted
    published = await hosts.signer("checkpoint")
    assert published.exit_code == 0, published.stdout + published.stderr
    assert "already covers all 33 entries" in published.stdout
    assert "it holds 33 entries (2 checkpoint(s) accepted)" in published.stdout
    assert (await hosts.auditor("verify")).exit_code == 0


async def test_tamper_schedule_checkpoints_and_publishes(
    hosts: Hosts, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the worker that runs the scheduled activity is the signer: it has the key and origin
    monkeypatch.setenv("AMITY_AUDIT_KEY_FILE", str(hosts.key_file))
    monkeypatch.setenv("AMITY_AUDIT_ORIGIN", hosts.origin)
    assert (await hosts.signer("schedule", "--every", "soon")).exit_code == 2
    made = await hosts.signer("schedule", "--every", "1h")
    assert made.exit_code == 0, made.stdout + made.stderr
    assert (
        f"schedule {schedule_id(hosts.origin)} created: a checkpoint every 1:00:00" in made.stdout
    )
    again = await hosts.signer("schedule", "--every", "30m")
    assert "updated: a checkpoint every 0:30:00" in again.stdout
    handle = hosts.client.get_schedule_handle(schedule_id(hosts.origin))
    described = await handle.describe()
    assert described.schedule.spec.intervals[0].every == timedelta(minutes=30)

    tell_story(engine.store, "partnership-e-f")
    await handle.trigger()
    for _ in range(200):
        held = await latest(hosts.client, hosts.origin)
        if held is not None and held.size == SIZE + 11:
            break
        await asyncio.sleep(0.05)
    assert held is not None and (held.size, held.count) == (SIZE + 11, 2)
    assert (await hosts.auditor("verify")).exit_code == 0
    gone = await hosts.signer("schedule", "--delete")
    assert f"schedule {schedule_id(hosts.origin)}: deleted" in gone.stdout
