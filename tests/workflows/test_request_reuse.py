"""A request_id is a promise that a resend is the same command: the same command with the
same payload is answered "already applied" and applies nothing; the same id on another
command or payload is refused with one line naming the command that used it first, and
nothing of it is recorded. As an Update, as a Signal, through the `amity` CLI (a real
subprocess) and after the id was carried to the next run by continue-as-new."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from amity import story
from domain.parsing import parse_command
from domain.state import CommandOutcome
from runtime.settings import Settings
from store.application import PartnershipStore
from tests.conftest import Engine
from tests.workflows.test_handover import Small, signed_with_exchanges, small  # noqa: F401
from workflows.payloads import Carried
from workflows.requests import AppliedRequests, fingerprint

AMITY = Path(sys.executable).with_name("amity")


def reason(request_id: str, command: str = "record_exchange") -> str:
    return (
        f"request_id {request_id} was already used for {command} with a different payload;"
        " use a new request_id"
    )


def exchange(request_id: str, **changes: Any) -> dict[str, Any]:
    return {**story.load("record_exchange.json"), "request_id": request_id, **changes}


#: A copy of examples/record_exchange.json with new data (the mistake this guards against).
NEW_DATA = {"title": "Cupertino delegation at the Mianyang Expo", "date": "2019-06-01"}


async def active(engine: Engine) -> Any:
    handle = await engine.start(story.proposal(), f"partnership-reuse-{uuid.uuid4().hex[:8]}")
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    return handle


def stored_ids(store: PartnershipStore, partnership_id: str) -> list[str]:
    return [s.request_id for s in store.history(partnership_id)]


async def wait_stored(store: PartnershipStore, partnership_id: str, request_id: str) -> None:
    for _ in range(400):
        if request_id in stored_ids(store, partnership_id):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{request_id} never stored")


def test_the_fingerprint_is_the_command_and_its_payload_without_the_request_id() -> None:
    payload = exchange("a")
    same = parse_command("record_exchange", dict(reversed(list(payload.items()))))
    first = parse_command("record_exchange", payload)
    assert fingerprint(first) == fingerprint(same.model_copy(update={"request_id": "b"}))
    assert fingerprint(first).startswith("record_exchange:")
    assert fingerprint(first) != fingerprint(
        parse_command("record_exchange", {**payload, **NEW_DATA})
    )
    remembered = AppliedRequests()
    assert remembered.reused("a", first) is None  # never applied
    remembered.remember(CommandOutcome(command="record_exchange", request_id="a", version=7), first)
    assert remembered.reused("a", first) is None
    other = parse_command("record_exchange", {**payload, **NEW_DATA})
    assert remembered.reused("a", other) == reason("a")


async def test_update_same_payload_is_a_repeat_other_payload_is_refused(engine: Engine) -> None:
    handle = await active(engine)
    first = await handle.execute_update("record_exchange", exchange("exchange-x"))
    again = await handle.execute_update("record_exchange", exchange("exchange-x"))
    assert (first["outcome"]["duplicate"], again["outcome"]["duplicate"]) == (False, True)
    assert again["outcome"]["version"] == first["outcome"]["version"]
    before = engine.store.state(handle.id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("record_exchange", exchange("exchange-x", **NEW_DATA))
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.message == reason("exchange-x")
    # another command under the id is refused the same way, naming the first command
    with pytest.raises(WorkflowUpdateFailedError) as other_command:
        await handle.execute_update("withdraw", {"reason": "x", "request_id": "exchange-x"})
    assert other_command.value.cause.message == reason("exchange-x")  # type: ignore[union-attr]
    assert engine.store.state(handle.id) == before  # nothing recorded
    assert stored_ids(engine.store, handle.id).count("exchange-x") == 1
    status = await handle.query("status")
    assert status["version"] == first["version"] and status["rejected"] == []
    assert status["exchanges"] == {"science_technology": 1}


async def test_signal_other_payload_is_recorded_as_refused(engine: Engine) -> None:
    handle = await active(engine)
    await handle.execute_update("record_exchange", exchange("exchange-s"))
    await handle.signal("record_exchange", exchange("exchange-s"))  # a true repeat
    await handle.signal("record_exchange", exchange("exchange-s", **NEW_DATA))
    await handle.signal("record_exchange", exchange("exchange-later", date="2019-07-01"))
    await wait_stored(engine.store, handle.id, "exchange-later")
    status = await handle.query("status")
    refused = [r for r in status["rejected"] if r.get("request_id") == "exchange-s"]
    assert [r["reason"] for r in refused] == [reason("exchange-s")]
    assert status["exchanges"] == {"science_technology": 2}  # the first and the later one
    stored = engine.store.history(handle.id)
    assert [s.request_id for s in stored].count("exchange-s") == 1
    # between them, only the refusal: the repeat recorded nothing, the new data nothing
    kinds = [s.event.type for s in stored[-3:]]
    assert kinds == ["exchange_recorded", "signal_rejected", "exchange_recorded"]


def amity(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AMITY), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_the_cli_makes_a_request_id_and_refuses_a_reused_one(
    engine: Engine, settings: Settings, store_url: str, tmp_path: Path
) -> None:
    handle = await active(engine)
    env = {
        "PATH": str(AMITY.parent),
        "HOME": str(tmp_path),
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "AMITY_TASK_QUEUE": engine.task_queue,
        "AMITY_EVENT_STORE_URL": store_url,
        "COLUMNS": "200",
    }
    example = str(story.EXAMPLES / "record_exchange.json")
    sent = await asyncio.to_thread(amity, env, "send", handle.id, "record_exchange", example)
    assert sent.returncode == 0, sent.stderr
    generated = sent.stdout.split("(request_id ", 1)[1].split(")")[0]
    assert generated.startswith("amity-")  # made by the CLI, not by the workflow
    assert stored_ids(engine.store, handle.id)[-1] == generated
    signalled = await asyncio.to_thread(
        amity, env, "send", handle.id, "record_exchange", example, "--signal", "--json"
    )
    assert signalled.returncode == 0, signalled.stderr
    signal_id = json.loads(signalled.stdout)["request_id"]
    assert signal_id.startswith("amity-") and signal_id != generated
    await wait_stored(engine.store, handle.id, signal_id)
    version = engine.store.state(handle.id).version  # type: ignore[union-attr]

    copy = tmp_path / "exchange.json"
    copy.write_text(json.dumps(exchange(generated)), encoding="utf-8")
    repeat = await asyncio.to_thread(amity, env, "send", handle.id, "record_exchange", str(copy))
    assert repeat.returncode == 0, repeat.stderr
    assert f"already applied (request_id {generated}), nothing changed" in repeat.stdout

    copy.write_text(json.dumps(exchange(generated, **NEW_DATA)), encoding="utf-8")
    for extra in ([], ["--signal"]):
        refused = await asyncio.to_thread(
            amity, env, "send", handle.id, "record_exchange", str(copy), *extra
        )
        if extra:  # a signal is delivered; the partnership lists it as refused
            assert refused.returncode == 0, refused.stderr
            assert f"(request_id {generated})" in refused.stdout
            continue
        assert refused.returncode == 2, (refused.stdout, refused.stderr)
        assert refused.stderr.strip().splitlines() == [f"amity: {reason(generated)}"]
        assert refused.stdout == ""
        assert engine.store.state(handle.id).version == version  # type: ignore[union-attr]
    for _ in range(400):
        status = await handle.query("status")
        if status["rejected"]:
            break
        await asyncio.sleep(0.05)
    assert [r["reason"] for r in status["rejected"]] == [reason(generated)]


async def test_a_reused_id_is_refused_after_a_handover(small: Small) -> None:  # noqa: F811
    sent = await signed_with_exchanges(small, 4)  # 9 commands: two hand-overs
    assert len(small.runs()) == 3
    first_id = sent[5][1]["request_id"]  # exchange-0, applied two runs ago
    assert first_id == "exchange-0"
    version = small.store.state(small.id).version  # type: ignore[union-attr]
    again = await small.update("record_exchange", sent[5][1])
    assert again["outcome"]["duplicate"] is True
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await small.update("record_exchange", {**sent[5][1], **NEW_DATA})
    assert refused.value.cause.message == reason("exchange-0")  # type: ignore[union-attr]
    assert small.store.state(small.id).version == version  # type: ignore[union-attr]
    await small.handle.signal("record_exchange", {**sent[5][1], **NEW_DATA})
    await small.handle.signal("record_exchange", exchange("exchange-after"))
    await small.stored("exchange-after")
    status = await small.handle.query("status")
    assert [r["reason"] for r in status["rejected"]] == [reason("exchange-0")]
    assert small.request_ids()["exchange-0"] == 1


async def test_ids_carried_without_fingerprints_keep_the_old_answer(
    engine: Engine, client: Client
) -> None:
    """A run handed over by code from before fingerprints carries bare ids: a reuse with
    other data is answered "already applied" as it was then (nothing to compare with)."""
    handle = await active(engine)
    await handle.execute_update("record_exchange", exchange("exchange-old"))
    state = engine.store.state(handle.id)
    assert state is not None
    outcome = CommandOutcome(
        command="record_exchange", request_id="exchange-old", version=state.version
    )
    carried = Carried(carried=state, applied={"exchange-old": outcome})
    assert carried.fingerprints == {}
    old = await client.start_workflow(
        "PartnershipWorkflow",
        carried.model_dump(mode="json"),
        id=f"partnership-old-run-{uuid.uuid4().hex[:8]}",
        task_queue=engine.task_queue,
    )
    answer = await old.execute_update("record_exchange", exchange("exchange-old", **NEW_DATA))
    assert answer["outcome"]["duplicate"] is True
    assert answer["outcome"]["version"] == state.version
    await old.terminate("test over")
