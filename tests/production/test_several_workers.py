"""Three worker processes, one PostgreSQL store, one Temporal server; eight clients send
400 commands (valid and invalid, updates and signals, some resent) to 20 partnerships at
once. Every command is applied exactly once or rejected with its reason, and
`audit reconcile` finds Temporal and the store in agreement for every partnership."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from amity import story
from audit.reconcile import reconcile
from runtime.connect import connect
from runtime.devserver import DevServer
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from tests.production.postgres import PostgresServer
from tests.production.workers import worker_processes

PARTNERSHIPS = 20
CLIENTS = 8
WORKERS = 3


@dataclass
class Sent:
    """One command of the 400 and what its client saw."""

    pid: str
    name: str
    payload: dict[str, Any]
    via: str  # update | signal
    applied: bool | None = None
    duplicate: bool = False
    version: int | None = None
    reason: str | None = None

    @property
    def request_id(self) -> str:
        return str(self.payload["request_id"])


@dataclass
class Plan:
    lifecycle: dict[str, list[Sent]] = field(default_factory=dict)
    extras: list[Sent] = field(default_factory=list)

    @property
    def all(self) -> list[Sent]:
        return [s for steps in self.lifecycle.values() for s in steps] + self.extras


def make_plan(pids: list[str]) -> Plan:
    """20 commands per partnership: its five steps to `active` (in order, by its owner)
    and 15 others sent by any client at any time, so many arrive in a stage that refuses
    them."""
    plan = Plan()
    for pid in pids:

        def sent(
            name: str, base: dict[str, Any], rid: str, via: str = "update", **change: Any
        ) -> Sent:
            return Sent(pid, name, {**base, **change, "request_id": f"{pid}/{rid}"}, via)  # noqa: B023

        plan.lifecycle[pid] = [
            sent(name, payload, f"step-{n}") for n, (name, payload) in enumerate(story.steps()[:5])
        ]
        exchange = story.load("record_exchange.json")
        meeting = story.load("record_meeting.json")
        invite = story.load("extend_invitation.json")
        plan.extras += [
            *(
                sent("record_exchange", exchange, f"x-{n}", "signal" if n < 2 else "update")
                for n in range(6)
            ),
            sent("record_exchange", exchange, "x-5"),  # resent by another client
            sent("extend_invitation", invite, "inv-a"),
            sent("extend_invitation", invite, "inv-b", "signal"),
            sent("record_meeting", meeting, "meet-a"),
            sent("record_meeting", meeting, "meet-b", "signal"),
            sent("record_exchange", exchange, "bad-field", field="nonsense"),
            sent("record_exchange", exchange, "bad-field-signal", "signal", field="nonsense"),
            sent(
                "sign_memorandum", story.load("sign_memorandum.json"), "no-draft", draft_version=99
            ),
            sent(
                "answer_invitation",
                story.load("answer_invitation.json"),
                "no-inv",
                "signal",
                invitation_id="inv-999",
            ),
        ]
    return plan


async def send(client: Client, command: Sent) -> None:
    handle = client.get_workflow_handle(command.pid)
    if command.via == "signal":
        await handle.signal(command.name, command.payload)
        return
    try:
        status = await handle.execute_update(command.name, command.payload)
    except WorkflowUpdateFailedError as error:
        assert isinstance(error.cause, ApplicationError), error
        command.applied, command.reason = False, error.cause.message
        return
    command.applied = True
    command.duplicate = status["outcome"]["duplicate"]
    command.version = status["outcome"]["version"]


async def run_client(client: Client, own: list[list[Sent]], extras: list[Sent]) -> None:
    for steps in own:  # this client's partnerships: to `active`, in order
        for command in steps:
            await send(client, command)
    for command in extras:
        await send(client, command)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    return postgres.new_database()


@pytest.mark.slow
async def test_three_workers_eight_clients_400_commands(
    dev_server: DevServer, pg_url: str, tmp_path: Path
) -> None:
    task_queue = f"scale-{uuid.uuid4().hex[:8]}"
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TEMPORAL_NAMESPACE": "default",
        "AMITY_TASK_QUEUE": task_queue,
        "AMITY_EVENT_STORE_URL": pg_url,
        "AMITY_STORE_THREADS": "8",
    }
    settings = Settings(TEMPORAL_ADDRESS=dev_server.address)
    pids = [f"partnership-scale{n:02d}-{uuid.uuid4().hex[:6]}" for n in range(PARTNERSHIPS)]
    plan = make_plan(pids)
    assert len(plan.all) == 400
    rng = random.Random(6)
    rng.shuffle(plan.extras)
    store = open_store(pg_url)
    with worker_processes(WORKERS, env, tmp_path) as workers:
        clients = [await connect(settings) for _ in range(CLIENTS)]
        for pid in pids:
            await clients[0].start_workflow(
                "PartnershipWorkflow", story.proposal(), id=pid, task_queue=task_queue
            )
        began = time.monotonic()
        await asyncio.gather(
            *(
                run_client(
                    client,
                    [plan.lifecycle[pid] for pid in pids[n::CLIENTS]],
                    plan.extras[n::CLIENTS],
                )
                for n, client in enumerate(clients)
            )
        )
        signals = [s for s in plan.all if s.via == "signal"]
        for _ in range(300):  # signals are asynchronous: wait until each is recorded
            stored_ids = stored_request_ids(store, pids)
            if all(s.request_id in stored_ids for s in signals):
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - began
        handled = [log.read_text().count("recorded ") for _, log in workers]

        reports = [await reconcile(clients[0], store, pid) for pid in pids]
        statuses = [await clients[0].get_workflow_handle(pid).query("status") for pid in pids]

    try:
        summary = check_exactly_once(store, plan, pids, statuses)
    finally:
        store.close()
    print(
        f"\n400 commands by {CLIENTS} clients over {WORKERS} workers in {elapsed:.1f}s:"
        f" {summary}; activities per worker {handled}"
    )
    assert all(n > 0 for n in handled), f"a worker took no work: {handled}"
    bad = [r for r in reports if not r.ok]
    assert not bad, [(r.partnership_id, r.missing, r.extra, r.different) for r in bad]
    assert summary["applied"] > 200 and summary["rejected"] >= 80, summary


def stored_request_ids(store: PartnershipStore, pids: list[str]) -> set[str]:
    found: set[str] = set()
    for pid in pids:
        for stored in store.history(pid):
            found.add(stored.request_id)
            sender = getattr(stored.event, "request_id", None)
            if stored.event.type == "signal_rejected" and sender:
                found.add(sender)
    return found


def check_exactly_once(
    store: PartnershipStore, plan: Plan, pids: list[str], statuses: list[dict[str, Any]]
) -> Counter[str]:
    summary: Counter[str] = Counter()
    for pid, status in zip(pids, statuses, strict=True):
        stored = store.history(pid)
        assert [e.originator_version for e in stored] == list(range(1, len(stored) + 1))
        assert status["version"] == len(stored)
        blocks: dict[str, list[int]] = {}
        rejected_signals: Counter[str] = Counter()
        for event in stored:
            blocks.setdefault(event.request_id, []).append(event.originator_version)
            if event.event.type == "signal_rejected":
                sender = getattr(event.event, "request_id", None)
                assert event.event.reason  # type: ignore[union-attr]
                if sender:
                    rejected_signals[sender] += 1
        for request_id, versions in blocks.items():  # one command = one contiguous block
            assert versions == list(range(versions[0], versions[0] + len(versions))), (
                f"{pid}: request {request_id} stored more than once at {versions}"
            )
        mine = [s for s in plan.all if s.pid == pid]
        by_request: dict[str, list[Sent]] = {}
        for command in mine:
            by_request.setdefault(command.request_id, []).append(command)
        for request_id, commands in by_request.items():
            applied = request_id in blocks
            for command in commands:
                if command.via == "update":
                    if command.applied:
                        assert applied, f"{pid}: update {request_id} acknowledged, not stored"
                        assert command.version == blocks[request_id][-1]
                        summary["duplicate" if command.duplicate else "applied"] += 1
                    else:
                        assert command.reason, f"{pid}: {request_id} rejected without a reason"
                        summary["rejected"] += 1
                elif applied:
                    summary["applied"] += 1
                else:
                    assert rejected_signals[request_id] >= 1, f"{pid}: signal {request_id} lost"
                    summary["rejected"] += 1
        # nothing in the store that no client sent (besides the proposal and the records
        # of rejected signals)
        engine_made = {
            e.request_id
            for e in stored
            if e.command == "propose" or e.event.type == "signal_rejected"
        }
        assert set(blocks) <= set(by_request) | engine_made
    assert sum(summary.values()) == 400
    return summary
