"""Bad input: every generated case sent as an Update, a Signal, a start input or through the
CLI, and refused cleanly (one line naming the field, nothing recorded but the rejection),
while the partnerships keep accepting valid commands."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from amity import story
from bench.faults.bad_cases import MIXED_NAMES, BadInput, bases, generate, setup_payload
from bench.faults.checks import audit, check_store, stuck_workflows
from bench.faults.cluster import cluster
from bench.faults.figures import Figures
from bench.faults.sending import WORKFLOW, gather_limited, update, wait_status
from runtime.connect import connect
from runtime.guard import PayloadTooLarge
from runtime.settings import open_store
from store.application import PartnershipStore

#: Temporal's payload limit (the server refuses a larger signal or start input).
TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024


async def _target(client: Client, task_queue: str, pid: str) -> list[str]:
    """A partnership in talks, with a draft, the approval granted and an open invitation."""
    await client.start_workflow(WORKFLOW, story.proposal(), id=pid, task_queue=task_queue)
    done = []
    for number, (command, _) in enumerate(story.steps(without_request_ids=True)[:6]):
        if command == "sign_memorandum":
            continue
        body = {**setup_payload(number), "request_id": f"{pid}/setup/{number}"}
        await update(client, pid, command, body)
        done.append(body["request_id"])
    return done


def refused_for_size(case: BadInput, error: PayloadTooLarge) -> bool:
    """Amity's client refused it for its size, naming the field, in one line."""
    message = str(error)
    return (
        case.kind in ("oversize", "huge_string")
        and f"{case.expect}: too large" in message
        and "\n" not in message
    )


def _cli_invoke(args: list[str], env: dict[str, str]) -> Any:
    from typer.testing import CliRunner

    from amity.cli import app

    return CliRunner().invoke(app, args, env=env)


async def run_bad_inputs(
    client: Client,
    task_queue: str,
    store: PartnershipStore,
    cases: list[BadInput],
    cli_env: dict[str, str],
    targets: int = 3,
) -> Figures:
    figures = Figures("bad input", partnerships=targets)
    tag = uuid.uuid4().hex[:6]
    pids = [f"partnership-bad-{tag}-{i}" for i in range(targets)]
    setups = await asyncio.gather(*(_target(client, task_queue, pid) for pid in pids))
    valid_sent: dict[str, int] = dict.fromkeys(pids, 0)
    rejected_expected: dict[str, int] = dict.fromkeys(pids, 0)
    started_ids: list[str] = []
    cli_turn = asyncio.Lock()
    for case in cases:
        if case.channel == "local":
            figures.bad_tried += 1
            figures.problem(f"{case.command}: the refusal does not name {case.expect!r}")

    def clean(case: BadInput, ok: bool, detail: str = "") -> None:
        figures.bad_tried += 1
        if ok:
            figures.bad_clean += 1
        else:
            figures.problem(f"{case.channel} {case.kind} {case.command!r:.40}: {detail:.300}")

    def body_of(case: BadInput, number: int, pid: str, setup: list[str]) -> Any:
        if case.kind == "replayed":
            return {**case.payload, "request_id": setup[1]}  # the applied record_meeting's id
        if case.kind == "conflicting":
            return {**case.payload, "request_id": setup[0]}  # open_talks' id, other command
        if isinstance(case.payload, dict) and "request_id" not in case.payload:
            return {**case.payload, "request_id": f"bad-{tag}-{number}"}
        return case.payload

    async def one_update(number: int, case: BadInput) -> None:
        pid = pids[number % targets]
        body = body_of(case, number, pid, setups[number % targets])
        handle = client.get_workflow_handle(pid)
        try:
            for attempt in range(6):
                try:
                    result = await asyncio.wait_for(handle.execute_update(case.command, body), 60)
                    break
                except RPCError as error:
                    # An update over 2 MiB fails its workflow task (Temporal echoes the
                    # request in the rejection); updates in the same task fail with it:
                    # clients resend them.
                    if case.kind == "oversize" or "failed state" not in error.message:
                        raise
                    await asyncio.sleep(0.5 * (attempt + 1))
            else:
                raise RPCError("still failing", RPCStatusCode.FAILED_PRECONDITION, b"")
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            ok = case.expect in message and "\n" not in message and case.expect != "duplicate"
            clean(case, ok, f"refused with {message!r}, expected {case.expect!r}")
            return
        except PayloadTooLarge as error:
            # refused by Amity's client before it was sent: nothing recorded
            clean(case, refused_for_size(case, error), f"PayloadTooLarge: {error}")
            return
        except RPCError as error:
            # refused at Temporal's door (e.g. over the payload limit): nothing recorded
            size = len(json.dumps(body)) if case.kind == "oversize" else 0
            ok = case.kind == "oversize" and (
                "size" in error.message.lower()
                or (size > TEMPORAL_PAYLOAD_LIMIT and "failed state" in error.message)
            )
            clean(case, ok, f"RPC error {error.status.name}: {error.message}")
            return
        except Exception as error:
            clean(case, False, f"{type(error).__name__}: {error}")
            return
        ok = case.expect == "duplicate" and result["outcome"]["duplicate"] is True
        clean(case, ok, f"applied: {result.get('outcome')}")

    async def one_start(number: int, case: BadInput) -> None:
        pid = f"partnership-badstart-{tag}-{number}"
        started_ids.append(pid)
        try:
            handle = await client.start_workflow(
                WORKFLOW, case.payload, id=pid, task_queue=task_queue
            )
            await asyncio.wait_for(handle.result(), 30)
        except WorkflowFailureError as error:
            cause = error.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause)
            ok = message.startswith("invalid proposal: ") and case.expect in message
            clean(case, ok, f"failed with {message!r}, expected {case.expect!r}")
            return
        except PayloadTooLarge as error:
            started_ids.remove(pid)
            clean(case, refused_for_size(case, error), f"PayloadTooLarge: {error}")
            return
        except RPCError as error:
            started_ids.remove(pid)
            clean(case, "size" in error.message.lower(), f"RPC error {error.message}")
            return
        except Exception as error:
            clean(case, False, f"{type(error).__name__}: {error}")
            return
        clean(case, False, "the workflow did not fail")

    async def one_cli(number: int, case: BadInput) -> None:
        pid = pids[number % targets]
        text = (
            case.payload
            if isinstance(case.payload, str) and case.kind == "broken_json"
            else (json.dumps(body_of(case, number, pid, setups[number % targets])))
        )
        args = ["send", "--data", text]
        semantic = case.kind in ("unknown_invitation", "missing_draft")
        if case.cli_signal and not semantic:
            args.append("--signal")
        args += ["--", pid, case.command]  # a generated name may start with '-'
        env = {**cli_env, "COLUMNS": "200"}
        async with cli_turn:  # CliRunner swaps sys.stdout/sys.stderr: one at a time
            result = await asyncio.to_thread(_cli_invoke, args, env)
        lines = result.stderr.strip().splitlines()
        ok = (
            result.exit_code == 2
            and len(lines) == 1
            and lines[0].startswith("amity: ")
            and "Traceback" not in result.stdout + result.stderr
            and case.expect in lines[0]
            and (result.exception is None or isinstance(result.exception, SystemExit))
        )
        clean(case, ok, f"exit {result.exit_code}, stderr {result.stderr!r:.300}")

    async def signals(batch: list[tuple[int, BadInput]]) -> None:
        """A batch of bad signals to one partnership: each listed as rejected, then a valid
        command is still applied."""
        pid = pids[batch[0][0] % targets]
        handle = client.get_workflow_handle(pid)
        before = await handle.query("status")
        recorded: list[tuple[BadInput, Any]] = []
        for number, case in batch:
            body = body_of(case, number, pid, setups[number % targets])
            try:
                await handle.signal(case.command, body)
            except PayloadTooLarge as error:
                clean(case, refused_for_size(case, error), f"PayloadTooLarge: {error}")
                continue
            except RPCError as error:
                clean(
                    case,
                    case.kind == "oversize" and "size" in error.message.lower(),
                    f"RPC error {error.message}",
                )
                continue
            if case.kind == "replayed":
                recorded.append((case, None))
            else:
                recorded.append((case, body))
        expected = sum(1 for _, body in recorded if body is not None)
        rejected_expected[pid] += expected
        after = await wait_status(
            client, pid, lambda s: s["version"] >= before["version"] + expected, deadline=120
        )
        await asyncio.sleep(0.2)
        after = await handle.query("status")
        if after["version"] != before["version"] + expected:
            figures.problem(
                f"{pid}: {after['version'] - before['version']} events for"
                f" {expected} rejected signals"
            )
        listed = after["rejected"][-expected:] if expected else []
        for case, body in recorded:
            if body is None:
                clean(case, True)
                continue
            rid = body.get("request_id") if isinstance(body, dict) else None
            match = [r for r in listed if rid is not None and r.get("request_id") == rid]
            if not match:
                match = [r for r in listed if case.expect in r["reason"]]
            ok = any(case.expect in r["reason"] for r in match)
            clean(case, ok, f"rejected list has {[r['reason'] for r in match][:2]}")
        # the partnership keeps accepting valid commands
        meeting = {k: v for k, v in bases()["record_meeting"].items() if k != "request_id"}
        meeting["delegation"] = [{**meeting["delegation"][0], "name": random.choice(MIXED_NAMES)}]
        meeting["request_id"] = f"valid-{uuid.uuid4().hex}"
        try:
            await update(client, pid, "record_meeting", meeting)
            figures.accepted_clean += 1
            valid_sent[pid] += 1
        except Exception as error:
            figures.problem(f"{pid}: a valid command after bad signals failed: {error}")

    by_channel: dict[str, list[tuple[int, BadInput]]] = {}
    for number, case in enumerate(cases):
        by_channel.setdefault(case.channel, []).append((number, case))
    jobs: list[Awaitable[Any]] = []
    jobs += [one_update(n, case) for n, case in by_channel.get("update", [])]
    jobs += [one_start(n, case) for n, case in by_channel.get("start", [])]
    jobs += [one_cli(n, case) for n, case in by_channel.get("cli", [])]
    await gather_limited(jobs, 8)
    pending = by_channel.get("signal", [])
    for index in range(targets):
        mine = [(n, case) for n, case in pending if n % targets == index]
        for offset in range(0, len(mine), 40):
            await signals(mine[offset : offset + 40])
    # nothing recorded but the setup, the valid commands and the rejected signals
    for pid, setup in zip(pids, setups, strict=True):
        history = store.history(pid)
        commands = Counter(e.request_id for e in history if e.command != "record_rejected_signal")
        rejected = len({e.request_id for e in history if e.command == "record_rejected_signal"})
        if len(commands) != 1 + len(setup) + valid_sent[pid]:
            figures.problem(
                f"{pid}: {len(commands)} commands stored, expected"
                f" {1 + len(setup) + valid_sent[pid]}"
            )
        if rejected != rejected_expected[pid]:
            figures.problem(
                f"{pid}: {rejected} rejected signals stored, expected {rejected_expected[pid]}"
            )
        figures.completed += 1
        figures.commands_applied += len(commands)
        check_store(store, pid, [*setup], figures)
    await stuck_workflows(client, pids + started_ids, figures)
    await audit(client, store, pids, figures)
    return figures


async def bad_input_suite(
    count: int = 5_000,
    client: Client | None = None,
    task_queue: str | None = None,
    store: PartnershipStore | None = None,
    folder: Path | None = None,
    seed: int = 7,
    cli_env: dict[str, str] | None = None,
    oversize: int = 4,
) -> Figures:
    """Every generated bad input refused cleanly on every channel; nobody stuck."""
    started = time.monotonic()
    cases = generate(count, seed, oversize)
    if client is None or task_queue is None or store is None:
        with cluster(folder) as running:
            opened = open_store(running.store_url)
            try:
                figures = await run_bad_inputs(
                    await connect(running.settings),
                    running.task_queue,
                    opened,
                    cases,
                    {
                        "TEMPORAL_ADDRESS": running.server.address,
                        "AMITY_TASK_QUEUE": running.task_queue,
                        "AMITY_EVENT_STORE_URL": running.store_url,
                    },
                )
            finally:
                opened.close()
    else:
        figures = await run_bad_inputs(client, task_queue, store, cases, cli_env or {})
    figures.seconds = time.monotonic() - started
    return figures
