"""With AMITY_PAYLOAD_KEY, encryption fails closed: a client without the key cannot slip a
plaintext command past an encrypted worker, and it gets one line, never a traceback.

Real dev server, a real worker holding the key, a real SQLite store, the real CLI in-process.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from typer.testing import CliRunner

from amity import story
from amity.cli import app
from domain.sealed import PLAINTEXT_REASON
from runtime.codec import AesGcmCodec, CodecKeyError
from runtime.connect import connect
from runtime.devserver import DevServer
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from worker import build_worker

NOT_ENCRYPTED = "the payload is not encrypted"


@dataclass
class Sealed:
    key: str
    keyed: Client
    keyless: Client
    task_queue: str
    store: PartnershipStore
    store_url: str


@pytest.fixture
async def sealed(dev_server: DevServer, tmp_path: Path) -> AsyncIterator[Sealed]:
    """A worker that holds the payload key, and two clients: one with it, one without."""
    key = base64.b64encode(os.urandom(32)).decode()
    keyed = await connect(Settings(TEMPORAL_ADDRESS=dev_server.address, AMITY_PAYLOAD_KEY=key))
    keyless = await connect(Settings(TEMPORAL_ADDRESS=dev_server.address))
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    store = open_store(store_url)
    task_queue = f"sealed-{uuid.uuid4().hex[:8]}"
    try:
        async with build_worker(keyed, store, task_queue, threads=4):
            yield Sealed(key, keyed, keyless, task_queue, store, store_url)
    finally:
        store.close()


async def started(sealed: Sealed) -> str:
    pid = f"partnership-sealed-{uuid.uuid4().hex[:8]}"
    handle = await sealed.keyed.start_workflow(
        "PartnershipWorkflow", story.proposal(), id=pid, task_queue=sealed.task_queue
    )
    command, payload = story.steps()[0]
    status = await handle.execute_update(command, payload)
    assert status["stage"] == "in_talks"
    return pid


async def test_a_plaintext_update_is_refused_and_nothing_is_recorded(sealed: Sealed) -> None:
    pid = await started(sealed)
    before = sealed.store.history(pid)
    command, payload = story.steps()[1]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await asyncio.wait_for(
            sealed.keyless.get_workflow_handle(pid).execute_update(command, payload), 20
        )
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError) and NOT_ENCRYPTED in cause.message
    assert sealed.store.history(pid) == before
    # the same command from a client with the key is applied: the refusal was the key only
    status = await sealed.keyed.get_workflow_handle(pid).execute_update(command, payload)
    assert status["version"] == len(before) + 1


async def test_a_plaintext_signal_is_listed_as_rejected_and_not_applied(sealed: Sealed) -> None:
    pid = await started(sealed)
    command, payload = story.steps()[1]
    await sealed.keyless.get_workflow_handle(pid).signal(command, payload)
    handle = sealed.keyed.get_workflow_handle(pid)

    async def rejected() -> dict[str, Any]:
        while True:
            status: dict[str, Any] = await handle.query("status")
            if status["rejected"]:
                return status
            await asyncio.sleep(0.1)

    status = await asyncio.wait_for(rejected(), 15)
    assert status["stage"] == "in_talks"
    assert [r["command"] for r in status["rejected"]] == [command]
    assert NOT_ENCRYPTED in status["rejected"][0]["reason"]
    assert not status.get("meetings"), "the plaintext meeting was applied"


async def test_a_plaintext_proposal_fails_its_workflow_and_records_nothing(sealed: Sealed) -> None:
    pid = f"partnership-sealed-{uuid.uuid4().hex[:8]}"
    handle = await sealed.keyless.start_workflow(
        "PartnershipWorkflow", story.proposal(), id=pid, task_queue=sealed.task_queue
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), 20)
    assert isinstance(failed.value.cause, ApplicationError)
    assert NOT_ENCRYPTED in failed.value.cause.message
    assert sealed.store.history(pid) == []


async def test_the_cli_without_the_key_says_one_line(sealed: Sealed, dev_server: DevServer) -> None:
    pid = await started(sealed)
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "AMITY_TASK_QUEUE": sealed.task_queue,
        "AMITY_EVENT_STORE_URL": sealed.store_url,
        "AMITY_PAYLOAD_KEY": "",
        "COLUMNS": "160",
    }

    def amity(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env=env)

    status = await asyncio.to_thread(amity, "status", pid)
    line = one_line_error(status)
    assert "AMITY_PAYLOAD_KEY" in line and sealed.key not in line

    command, payload = story.steps()[1]
    before = sealed.store.history(pid)
    sent = await asyncio.to_thread(amity, "send", pid, command, "--data", json_of(payload))
    assert NOT_ENCRYPTED in one_line_error(sent)
    assert sealed.store.history(pid) == before

    # listing reads search attributes, which are not encrypted: it works without the key
    listed = await asyncio.to_thread(amity, "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    assert pid in listed.stdout


def test_the_codec_refuses_plaintext_on_each_side() -> None:
    """Client: an error naming the cause. Worker: the marker with the reason. Codec server
    (display) and a migration: the payload as it is."""
    from temporalio.api.common.v1 import Payload

    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Jing Dazhong"}')
    codec = AesGcmCodec(os.urandom(32))
    with pytest.raises(CodecKeyError, match="unencrypted"):
        codec.decode_one(plain)
    marked = codec.with_plaintext("mark").decode_one(plain)
    assert marked.data.decode() == PLAINTEXT_REASON and b"Jing" not in marked.data
    assert codec.with_plaintext("accept").decode_one(plain) == plain


def json_of(value: Any) -> str:
    import json

    return json.dumps(value)


def one_line_error(result: Any) -> str:
    output = result.stderr + result.stdout
    assert result.exit_code == 2, (result.exit_code, output)
    assert "Traceback" not in output and "KeyError" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amity: "), result.stderr
    return lines[0]
