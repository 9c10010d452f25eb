"""Policy timers on the real dev server (durations of seconds through `policy`), and
reminders delivered to a real local webhook receiver."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from temporalio.client import Client

from amity import story
from store.application import PartnershipStore
from tests.conftest import Engine
from worker import build_worker

#: Reminders are always signed (Standard Webhooks); tests/security checks the signature.
SECRET = "whsec_" + base64.b64encode(b"timers-test-secret-32-bytes-long").decode()


class Receiver:
    """A webhook receiver that fails the first `failures` posts and dedupes by the
    Idempotency-Key header, as a receiver that never parses the body would."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.posts: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.seen: dict[str, dict[str, Any]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers.get("Idempotency-Key")
                receiver.posts.append(body)
                receiver.keys.append(key)
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.seen.setdefault(key or f"no key {len(receiver.posts)}", body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/reminders"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(failures=2)
    found.thread.start()
    yield found
    found.server.shutdown()


@pytest.fixture
async def timed(
    client: Client, store: PartnershipStore, receiver: Receiver
) -> AsyncIterator[Engine]:
    """A worker whose reminders go to the test's receiver."""
    task_queue = f"timers-{uuid.uuid4().hex}"
    async with build_worker(
        client, store, task_queue, threads=8, webhook_url=receiver.url, webhook_secret=SECRET
    ):
        yield Engine(client=client, task_queue=task_queue, store=store)


def proposal_with(**policy: str) -> dict[str, Any]:
    return {**story.proposal(), "policy": policy}


async def signed(engine: Engine, **policy: str) -> Any:
    """Signed today: the term and the dormancy run from the signing (effective) date, so
    terms of seconds run from now."""
    handle = await engine.start(
        proposal_with(**policy), f"partnership-timer-{uuid.uuid4().hex[:8]}"
    )
    for command, payload in story.steps()[:5]:
        if command == "sign_memorandum":
            payload = {**payload, "date": datetime.now(UTC).date().isoformat()}
        await handle.execute_update(command, payload)
    return handle


async def wait_for(handle: Any, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await handle.query("status")
        if predicate(status):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {status}")
        await asyncio.sleep(0.1)


def types(engine: Engine, partnership_id: str) -> list[str]:
    return [s.event.type for s in engine.store.history(partnership_id)]


async def test_talks_deadline_is_recorded_and_reminded(timed: Engine, receiver: Receiver) -> None:
    handle = await timed.start(
        proposal_with(talks_deadline="PT2S"), f"partnership-deadline-{uuid.uuid4().hex[:8]}"
    )
    await handle.execute_update("open_talks", story.load("open_talks.json"))
    await wait_for(handle, lambda s: s["version"] >= 3)
    stored = timed.store.history(handle.id)
    assert stored[-1].event.type == "talks_deadline_passed"
    assert stored[-1].actor == "amity-engine" and stored[-1].via == "engine"
    assert (await handle.query("status"))["stage"] == "in_talks"  # operators decide
    for _ in range(100):
        if receiver.seen:
            break
        await asyncio.sleep(0.1)
    reminder = receiver.seen[f"{handle.id}:3"]
    assert reminder["kind"] == "talks_deadline_passed"
    assert "Mianyang (CN) ↔ Cupertino (US)" in reminder["summary"]
    # The receiver failed twice: Temporal retried, and the receiver saw one reminder id.
    assert len(receiver.posts) == 3
    assert {p["id"] for p in receiver.posts} == {reminder["id"]}
    assert receiver.keys == [reminder["id"]] * 3  # every retry carries the same key
    assert len(receiver.seen) == 1


async def test_dormancy_then_an_exchange_reactivates(engine: Engine) -> None:
    handle = await signed(engine, dormant_after="PT2S")
    status = await wait_for(handle, lambda s: s["stage"] == "dormant")
    assert status["version"] == 7
    result = await handle.execute_update("record_exchange", story.load("record_exchange.json"))
    assert result["stage"] == "active"
    assert types(engine, handle.id)[-3:] == ["became_dormant", "reactivated", "exchange_recorded"]
    await wait_for(handle, lambda s: s["stage"] == "dormant")  # and quiet again later


async def test_expiry_completes_the_workflow(engine: Engine) -> None:
    handle = await signed(engine, term="PT3S")
    final = await asyncio.wait_for(handle.result(), timeout=20)
    assert final["stage"] == "expired"
    assert types(engine, handle.id)[-1] == "expired"


async def test_renewal_notice_then_renew_moves_the_term(engine: Engine) -> None:
    handle = await signed(engine, term="PT5S", renewal_notice="PT3S")
    status = await wait_for(handle, lambda s: s["version"] >= 7)
    assert types(engine, handle.id)[-1] == "renewal_due"
    first_end = status["expires_on"]
    renewed = await handle.execute_update("renew", {"term": "PT8S", "reference": "council 2019"})
    assert renewed["expires_on"] > first_end
    # The new term's renewal notice (5 s after the renewal, so after the first term's end)
    # proves the workflow's clock passed the first end without expiring: no fixed sleep.
    status = await wait_for(handle, lambda s: s["version"] >= 9)
    assert types(engine, handle.id)[-3:] == ["renewal_due", "renewed", "renewal_due"]
    assert status["stage"] == "active" and status["expires_on"] == renewed["expires_on"]
    await handle.execute_update("terminate", {"reason": "test over"})
    assert (await handle.result())["stage"] == "terminated"


async def test_correcting_the_policy_moves_the_running_timer(engine: Engine) -> None:
    handle = await signed(engine, dormant_after="P365D")
    await handle.execute_update(
        "correct",
        {
            "target_version": 1,
            "reason": "typo in the policy",
            "correction": {"policy": {"dormant_after": "PT1S"}},
        },
    )
    status = await wait_for(handle, lambda s: s["stage"] == "dormant", timeout=10)
    assert status["policy"]["dormant_after"] == "PT1S"
