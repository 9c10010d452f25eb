"""Policy timers on the real dev server with the durations an operator sets (a five-year
term, a 90-day renewal notice, two years to dormancy, 60 days of talks), on each
workflow's virtual clock moved forward by the test (`clock`, tests/timeskip.py); the store
and the reminders to a real local webhook receiver run as in production."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from temporalio.client import Client

from amity import story
from store.application import PartnershipStore
from tests.conftest import Engine
from tests.timeskip import Clock
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
    """Signed today: the term and the dormancy run from the signing (effective) date, which
    is the instant of the signing (recorded the day it is dated)."""
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


DAY = timedelta(days=1)


def stored(engine: Engine, partnership_id: str, kind: str) -> list[Any]:
    """The events of type `kind` in the store, oldest first."""
    return [s.event for s in engine.store.history(partnership_id) if s.event.type == kind]


async def test_talks_deadline_is_recorded_and_reminded(
    timed: Engine, receiver: Receiver, clock: Clock
) -> None:
    handle = await timed.start(
        proposal_with(talks_deadline="P60D"), f"partnership-deadline-{uuid.uuid4().hex[:8]}"
    )
    await handle.execute_update("open_talks", story.load("open_talks.json"))
    await clock.advance(handle, 59 * DAY)
    assert (await handle.query("status"))["version"] == 2  # 59 days: not yet
    await clock.advance(handle, 2 * DAY)
    await wait_for(handle, lambda s: s["version"] >= 3)
    history = timed.store.history(handle.id)
    assert history[-1].event.type == "talks_deadline_passed"
    assert history[-1].actor == "amity-engine" and history[-1].via == "engine"
    [proposed] = stored(timed, handle.id, "proposed")
    passed = history[-1].event
    assert passed.deadline == proposed.at + 60 * DAY  # type: ignore[union-attr]
    assert passed.deadline <= passed.at < passed.deadline + DAY  # type: ignore[union-attr]
    assert (await handle.query("status"))["stage"] == "in_talks"  # operators decide
    for _ in range(200):
        if receiver.seen:
            break
        await asyncio.sleep(0.05)
    reminder = receiver.seen[f"{handle.id}:3"]
    assert reminder["kind"] == "talks_deadline_passed"
    assert "Mianyang (CN) ↔ Cupertino (US)" in reminder["summary"]
    # The receiver failed twice: Temporal retried, and the receiver saw one reminder id.
    assert len(receiver.posts) == 3
    assert {p["id"] for p in receiver.posts} == {reminder["id"]}
    assert receiver.keys == [reminder["id"]] * 3  # every retry carries the same key
    assert len(receiver.seen) == 1


async def test_dormancy_then_an_exchange_reactivates(engine: Engine, clock: Clock) -> None:
    handle = await signed(engine, dormant_after="P2Y")
    [signing] = stored(engine, handle.id, "memorandum_signed")
    await clock.advance(handle, 729 * DAY)
    assert (await handle.query("status"))["stage"] == "active"  # P2Y is 730 days
    await clock.advance(handle, 2 * DAY)
    status = await wait_for(handle, lambda s: s["stage"] == "dormant")
    assert status["version"] == 7
    [dormant] = stored(engine, handle.id, "became_dormant")
    assert dormant.idle_since == signing.at  # the signing's instant: signed as it was dated
    assert signing.at + 730 * DAY <= dormant.at < signing.at + 731 * DAY

    today = (await clock.now(handle)).date()  # two years after the signing
    exchange = {**story.load("record_exchange.json"), "date": today.isoformat()}
    result = await handle.execute_update("record_exchange", exchange)
    assert result["stage"] == "active"
    assert types(engine, handle.id)[-3:] == ["became_dormant", "reactivated", "exchange_recorded"]
    # and quiet again two years after that exchange, counted from it
    await clock.advance(handle, 731 * DAY)
    await wait_for(handle, lambda s: s["stage"] == "dormant")
    _, again = stored(engine, handle.id, "became_dormant")
    assert again.idle_since.date() == today
    assert again.at >= again.idle_since + 730 * DAY


async def test_expiry_completes_the_workflow(engine: Engine, clock: Clock) -> None:
    handle = await signed(engine, term="P5Y")
    [signing] = stored(engine, handle.id, "memorandum_signed")
    assert signing.expires_at == signing.at + 1825 * DAY  # P5Y is 5 x 365 days
    await clock.advance(handle, 1824 * DAY)
    assert (await handle.query("status"))["stage"] == "active"  # a day before the end
    await clock.advance(handle, 2 * DAY)
    final = await asyncio.wait_for(handle.result(), timeout=20)
    assert final["stage"] == "expired"
    assert types(engine, handle.id)[-1] == "expired"
    [expired] = stored(engine, handle.id, "expired")
    assert expired.expires_at == signing.expires_at
    assert signing.expires_at <= expired.at < signing.expires_at + DAY


async def test_renewal_notice_then_renew_moves_the_term(engine: Engine, clock: Clock) -> None:
    handle = await signed(engine, term="P5Y", renewal_notice="P90D")
    [signing] = stored(engine, handle.id, "memorandum_signed")
    await clock.advance(handle, (1825 - 90 + 1) * DAY)  # inside the notice period
    status = await wait_for(handle, lambda s: s["version"] >= 7)
    assert types(engine, handle.id)[-1] == "renewal_due"
    [due] = stored(engine, handle.id, "renewal_due")
    assert signing.expires_at - 90 * DAY <= due.at < signing.expires_at - 89 * DAY
    first_end = status["expires_on"]
    assert first_end == signing.expires_at.isoformat().replace("+00:00", "Z")
    # renewed for five more years from the day the first term ends, as a council decides
    renewal = {"term": "P5Y", "reference": "council 2031", "date": first_end[:10]}
    renewed = await handle.execute_update("renew", renewal)
    second_end = datetime.fromisoformat(first_end[:10]).replace(tzinfo=UTC) + 1825 * DAY
    assert renewed["expires_on"] == second_end.isoformat().replace("+00:00", "Z")
    # Past the first term's end the partnership is still active: the new term's renewal
    # notice (five years on) comes, not the first term's expiry.
    await clock.advance(handle, 1825 * DAY)
    status = await wait_for(handle, lambda s: s["version"] >= 9)
    assert types(engine, handle.id)[-3:] == ["renewal_due", "renewed", "renewal_due"]
    assert status["stage"] == "active" and status["expires_on"] == renewed["expires_on"]
    await handle.execute_update("terminate", {"reason": "test over"})
    assert (await handle.result())["stage"] == "terminated"


async def test_correcting_the_policy_moves_the_running_timer(engine: Engine, clock: Clock) -> None:
    handle = await signed(engine, dormant_after="P2Y")
    [signing] = stored(engine, handle.id, "memorandum_signed")
    await handle.execute_update(
        "correct",
        {
            "target_version": 1,
            "reason": "typo in the policy",
            "correction": {"policy": {"dormant_after": "P30D"}},
        },
    )
    await clock.advance(handle, 31 * DAY)  # far short of the two years first set
    status = await wait_for(handle, lambda s: s["stage"] == "dormant", timeout=10)
    assert status["policy"]["dormant_after"] == "P30D"
    [dormant] = stored(engine, handle.id, "became_dormant")
    assert signing.at + 30 * DAY <= dormant.at < signing.at + 31 * DAY
