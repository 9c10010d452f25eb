"""Races: ten clients send conflicting commands to one partnership at once; the outcome must
be one that some serial order of those commands gives."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from amity import story
from bench.faults.bad_cases import bases
from bench.faults.checks import audit, check_store, stuck_workflows
from bench.faults.cluster import cluster
from bench.faults.figures import Figures
from bench.faults.sending import WORKFLOW, current_status, update
from domain.decider import decide, evolve
from domain.messages import Command
from domain.parsing import parse_command
from domain.registry import Rejection
from domain.state import PartnershipState
from runtime.connect import connect
from runtime.settings import open_store
from store.application import PartnershipStore


def _race_commands(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    valid = bases()
    sign = {k: v for k, v in valid["sign_memorandum"].items() if k != "request_id"}
    exchange = {k: v for k, v in valid["record_exchange"].items() if k != "request_id"}
    mix: list[tuple[str, dict[str, Any]]] = [
        ("sign_memorandum", sign),
        ("sign_memorandum", {**sign, "place": "Mianyang"}),
        ("withdraw", {"reason": "the council withdrew its support"}),
        ("answer_invitation", {"invitation_id": "inv-1", "accepted": True}),
        ("answer_invitation", {"invitation_id": "inv-1", "accepted": False}),
        ("answer_invitation", {"invitation_id": "inv-2", "accepted": True}),
        ("answer_invitation", {"invitation_id": "inv-2", "accepted": False}),
        ("record_exchange", exchange),
        ("terminate", {"reason": "ended at once"}),
        rng.choice([("withdraw", {"reason": "second thoughts"}), ("sign_memorandum", sign)]),
    ]
    rng.shuffle(mix)
    return mix


def _serial_check(
    state0: PartnershipState,
    applied: list[Command],
    refused: list[tuple[Command, str]],
    final: PartnershipState,
) -> list[str]:
    """Is there a serial order giving this result? Applied commands in the store's order
    must each be allowed; each refused one must be refused with its reason somewhere."""
    problems = []
    now = datetime.now(UTC)
    states = [state0]
    state = state0
    for command in applied:
        decision = decide(state, command, now)
        if isinstance(decision, Rejection):
            problems.append(
                f"{command.name} applied but a serial order refuses it: {decision.reason}"
            )
            break
        version = state.version
        for event in decision:
            version += 1
            state = evolve(state, event, version)
        states.append(state)
    if (state.signing is None) != (final.signing is None):
        problems.append(f"signed: serial order gives {state.signing is not None}")
    for field_name in ("stage", "version"):
        if getattr(state, field_name) != getattr(final, field_name):
            problems.append(
                f"{field_name}: serial order gives {getattr(state, field_name)},"
                f" the store has {getattr(final, field_name)}"
            )
    answers = [(i.invitation_id, i.accepted) for i in state.invitations]
    if answers != [(i.invitation_id, i.accepted) for i in final.invitations]:
        problems.append(f"invitations: serial order gives {answers}")
    for command, reason in refused:
        if reason == "ended":
            if not final.stage.is_terminal:
                problems.append(f"{command.name} refused as ended but the stage is {final.stage}")
            continue
        fits = any(
            isinstance(d := decide(s, command, now), Rejection) and d.reason == reason
            for s in states
        )
        if not fits:
            problems.append(f"{command.name} refused ({reason}) where no serial order refuses it")
    return problems


async def race_round(
    client: Client, task_queue: str, store: PartnershipStore, rng: random.Random, figures: Figures
) -> str:
    pid = f"partnership-race-{uuid.uuid4().hex[:8]}"
    await client.start_workflow(WORKFLOW, story.proposal(), id=pid, task_queue=task_queue)
    steps = story.steps(without_request_ids=True)
    setup = [steps[0], steps[1], steps[2], steps[3], steps[5], steps[6]]  # two invitations
    for number, (command, payload) in enumerate(setup):
        await update(client, pid, command, {**payload, "request_id": f"{pid}/setup/{number}"})
    before = await current_status(client, pid)
    state0 = store.state(pid, before["version"])
    assert state0 is not None
    mix = _race_commands(rng)
    outcomes: list[tuple[Command, str | None, str | None]] = []

    async def client_sends(number: int, command: str, payload: dict[str, Any]) -> None:
        body = {**payload, "request_id": f"{pid}/race/{number}", "actor": f"client-{number}"}
        parsed = parse_command(command, body)
        handle = client.get_workflow_handle(pid)
        try:
            await handle.execute_update(command, body)
            outcomes.append((parsed, body["request_id"], None))
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            outcomes.append((parsed, None, reason))
        except RPCError as error:
            if "already completed" in error.message:
                outcomes.append((parsed, None, "ended"))
            else:
                figures.problem(f"{pid} {command}: {error.message}")

    await asyncio.gather(*(client_sends(n, cmd, p) for n, (cmd, p) in enumerate(mix)))
    final_status = await current_status(client, pid)
    history = store.history(pid, gt=before["version"])
    order: list[str] = []
    for event in history:
        if not order or order[-1] != event.request_id:
            order.append(event.request_id)
    by_id = {rid: cmd for cmd, rid, _ in outcomes if rid is not None}
    if set(order) != set(by_id):
        figures.problem(f"{pid}: store has {order}, clients were told {sorted(by_id)}")
    applied = [by_id[rid] for rid in order if rid in by_id]
    refused = [(cmd, reason) for cmd, _, reason in outcomes if reason is not None]
    final = store.state(pid)
    assert final is not None
    for problem in _serial_check(state0, applied, refused, final):
        figures.problem(f"{pid}: {problem}")
    if final_status["version"] != final.version or final_status["stage"] != final.stage:
        figures.problem(
            f"{pid}: Temporal says {final_status['stage']} v{final_status['version']},"
            f" the store {final.stage} v{final.version}"
        )
    figures.commands_applied += len(applied)
    figures.bad_tried += len(mix)
    figures.bad_clean += len(applied) + len(refused)
    figures.completed += 1
    check_store(store, pid, [rid for _, rid, _ in outcomes if rid], figures)
    return pid


async def race_suite(
    rounds: int = 20,
    client: Client | None = None,
    task_queue: str | None = None,
    store: PartnershipStore | None = None,
    seed: int = 11,
) -> Figures:
    """`rounds` partnerships, each raced by 10 clients with conflicting commands."""
    if client is None or task_queue is None or store is None:
        with cluster() as running:
            opened = open_store(running.store_url)
            try:
                return await race_suite(
                    rounds, await connect(running.settings), running.task_queue, opened, seed
                )
            finally:
                opened.close()
    started = time.monotonic()
    figures = Figures("races (10 clients)", partnerships=rounds)
    rng = random.Random(seed)
    pids = [await race_round(client, task_queue, store, rng, figures) for _ in range(rounds)]
    await stuck_workflows(client, pids, figures)
    await audit(client, store, pids, figures)
    figures.seconds = time.monotonic() - started
    return figures
