"""Faults and bad input: nothing lost, nothing doubled, nobody stuck.

`python -m bench.faults [--full]` runs four scenarios against real processes and prints
their figures (and writes them as markdown to bench/results/faults-<date>.md):

- crash: N partnerships driven through the story by concurrent clients while the worker
  process (`python worker.py`) is killed with SIGKILL at random moments and restarted, and
  the Temporal dev server (SQLite file) is stopped and restarted once mid-run;
- lock: the event store's SQLite file held by another process (`BEGIN EXCLUSIVE`) while
  commands arrive;
- bad input: hypothesis-generated payloads for every command and the start input, as
  Updates, Signals, through the CLI and as start inputs;
- races: 10 clients sending conflicting commands to one partnership.

The tests in tests/faults/ call the same functions at a reduced size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from amity import story
from domain.decider import decide, evolve
from domain.messages import Command
from domain.parsing import InvalidInput, parse_command, parse_proposal
from domain.registry import USER_COMMANDS, Rejection
from domain.slices.propose import Proposal
from domain.state import PartnershipState
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.guard import PayloadTooLarge
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
WORKFLOW = "PartnershipWorkflow"
#: Temporal's payload limit (the server refuses a larger signal or start input).
TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024


# -- figures -------------------------------------------------------------------------------


@dataclass
class Figures:
    """What one scenario found; `problems` explains every non-zero bad figure."""

    scenario: str
    partnerships: int = 0
    completed: int = 0
    commands_applied: int = 0
    events_stored: int = 0
    duplicates: int = 0
    losses: int = 0
    bad_tried: int = 0
    bad_clean: int = 0
    accepted_clean: int = 0
    stuck: int = 0
    reconcile_bad: int = 0
    verify_bad: int = 0
    worker_kills: int = 0
    worker_exits: int = 0
    server_restarts: int = 0
    activity_retries: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(text)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.duplicates == 0
            and self.losses == 0
            and self.stuck == 0
            and self.reconcile_bad == 0
            and self.verify_bad == 0
            and self.bad_clean == self.bad_tried
            and self.completed == self.partnerships
        )


# -- processes -----------------------------------------------------------------------------


class Cluster:
    """A dev server on a SQLite file, worker subprocesses, one SQLite event store."""

    def __init__(self, folder: Path, task_queue: str = "faults") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.task_queue = task_queue
        self.store_file = folder / "events.db"
        self.store_url = f"sqlite:///{self.store_file}"
        self.server = DevServer(
            search_attributes=SEARCH_ATTRIBUTES,
            port=free_port(),
            ui_port=None,
            db_file=folder / "temporal.db",
            log_file=folder / "server.log",
        )
        self.workers: list[subprocess.Popen[bytes]] = []
        self.kills = 0
        self.exits = 0
        self.server_restarts = 0

    @property
    def settings(self) -> Settings:
        return Settings(TEMPORAL_ADDRESS=self.server.address)

    def worker_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": self.server.address,
            "AMITY_TASK_QUEUE": self.task_queue,
            "AMITY_EVENT_STORE_URL": self.store_url,
            "AMITY_STORE_THREADS": "16",
            "PYTHONUNBUFFERED": "1",
        }

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = open(self.folder / "worker.log", "ab")  # noqa: SIM115 - owned by the process
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            cwd=ROOT,
            env=self.worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.workers.append(process)
        return process

    def kill_worker(self) -> None:
        """SIGKILL one running worker (ours, by pid) and start another."""
        alive = [w for w in self.workers if w.poll() is None]
        if alive:
            victim = random.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            self.workers.remove(victim)
            self.kills += 1
        self.start_worker()

    def keep_workers(self, count: int = 1) -> None:
        """Restart workers that exited by themselves (counted: they should not)."""
        for worker in list(self.workers):
            if worker.poll() is not None:
                self.workers.remove(worker)
                self.exits += 1
        while len(self.workers) < count:
            self.start_worker()

    def restart_server(self) -> None:
        self.server.stop()
        time.sleep(0.5)
        self.server.start()
        self.server_restarts += 1

    def start(self, workers: int = 1) -> Cluster:
        self.server.start()
        for _ in range(workers):
            self.start_worker()
        return self

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
        self.workers.clear()
        self.server.stop()


@contextlib.contextmanager
def cluster(folder: Path | None = None, workers: int = 1) -> Iterator[Cluster]:
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        running = Cluster(folder).start(workers)
        try:
            yield running
        finally:
            running.stop()


# -- sending, tolerant of crashes and restarts -------------------------------------------


class Refused(Exception):  # noqa: N818 - reads as what happened
    """The workflow refused the command (its reason is the message)."""


async def resilient(
    action: Callable[[], Awaitable[Any]], deadline: float = 240.0, what: str = ""
) -> Any:
    """Retry `action` through worker crashes and a server restart (same request id)."""
    give_up = time.monotonic() + deadline
    pause = 0.2
    while True:
        try:
            return await asyncio.wait_for(action(), 30)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in (
                "CommandRejected",
                "InvalidCommand",
                "InvalidProposal",
            ):
                raise Refused(cause.message) from None
            last: BaseException = error
        except WorkflowAlreadyStartedError:
            return None  # our earlier attempt started it
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as error:
            last = error
        except RuntimeError as error:  # the client's connection while the server restarts
            last = error
        if time.monotonic() > give_up:
            raise TimeoutError(f"{what}: gave up after {deadline:.0f}s: {last}")
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 3.0)


async def update(client: Client, pid: str, command: str, payload: dict[str, Any]) -> Any:
    handle = client.get_workflow_handle(pid)
    request_id = payload["request_id"]
    return await resilient(
        lambda: handle.execute_update(command, payload, id=request_id),
        what=f"{pid} {command}",
    )


async def wait_status(
    client: Client, pid: str, done: Callable[[dict[str, Any]], bool], deadline: float = 240.0
) -> dict[str, Any]:
    """Poll `status` (or the result once ended) until `done` says so."""
    give_up = time.monotonic() + deadline
    last: dict[str, Any] = {}
    while time.monotonic() < give_up:
        with contextlib.suppress(Exception):
            last = await current_status(client, pid)
            if done(last):
                return last
        await asyncio.sleep(0.3)
    raise TimeoutError(f"{pid}: status never reached the expected state; last {last!r:.300}")


async def current_status(client: Client, pid: str) -> dict[str, Any]:
    handle = client.get_workflow_handle(pid)
    described = await handle.describe()
    if described.status == WorkflowExecutionStatus.COMPLETED:
        result: dict[str, Any] = await handle.result()
        return result
    answer: dict[str, Any] = await handle.query("status")
    return answer


# -- checks shared by every scenario -----------------------------------------------------


def check_store(
    store: PartnershipStore, pid: str, acknowledged: list[str], figures: Figures
) -> list[Any]:
    """Versions contiguous, each request id in one block, every acknowledged one present."""
    history = store.history(pid)
    figures.events_stored += len(history)
    versions = [e.originator_version for e in history]
    if versions != list(range(1, len(history) + 1)):
        figures.problem(f"{pid}: versions not contiguous: {versions}")
    blocks: list[str] = []
    for event in history:
        if not blocks or blocks[-1] != event.request_id:
            blocks.append(event.request_id)
    for request_id, count in Counter(blocks).items():
        if count > 1:
            figures.duplicates += count - 1
            figures.problem(f"{pid}: request {request_id} stored {count} times")
    stored = set(blocks)
    for request_id in acknowledged:
        if request_id not in stored:
            figures.losses += 1
            figures.problem(f"{pid}: acknowledged request {request_id} is not in the store")
    return history


async def stuck_workflows(client: Client, pids: list[str], figures: Figures) -> None:
    """A workflow is stuck if any run failed workflow tasks repeatedly or one is pending."""

    async def one(pid: str) -> None:
        async for execution in client.list_workflows(f'WorkflowId = "{pid}"'):
            handle = client.get_workflow_handle(pid, run_id=execution.run_id)
            history = await handle.fetch_history()
            failed = [
                e.workflow_task_failed_event_attributes.failure.message
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            ]
            figures.activity_retries += sum(
                1
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and e.activity_task_started_event_attributes.attempt > 1
            )
            pending = 0
            if execution.status == WorkflowExecutionStatus.RUNNING:
                described = await handle.describe()
                if described.raw_description.HasField("pending_workflow_task"):
                    pending = described.raw_description.pending_workflow_task.attempt
            if len(failed) > 1 or pending > 2:
                figures.stuck += 1
                figures.problem(
                    f"{pid} run {execution.run_id}: {len(failed)} workflow task failure(s),"
                    f" pending attempt {pending}: {failed[:1]}"
                )

    await gather_limited([one(pid) for pid in pids], 16)


async def audit(client: Client, store: PartnershipStore, pids: list[str], figures: Figures) -> None:
    """`amity audit reconcile` for these partnerships and `amity audit verify` of the store."""
    from audit.reconcile import reconcile
    from audit.verify import verify_store

    for pid in pids:
        report = await reconcile(client, store, pid)
        if not report.ok:
            figures.reconcile_bad += 1
            figures.problem(
                f"reconcile {pid}: missing {report.missing[:2]} extra {report.extra[:2]}"
                f" different {report.different[:2]}"
            )
    verified = verify_store(store)
    if verified.problems:
        figures.verify_bad += len(verified.problems)
        for problem in verified.problems[:5]:
            figures.problem(f"verify: {problem}")


async def gather_limited(jobs: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


# -- 1. crashes ------------------------------------------------------------------------------


def plan_for(index: int) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The commands of partnership `index` and the stage it must end in."""
    steps = story.steps(without_request_ids=True)
    if index % 10 == 9:  # talks abandoned
        reason = {"reason": "the council changed its priorities"}
        return [*steps[:2], ("withdraw", reason)], "withdrawn"
    if index % 10 == 7:  # the whole story, then the end of it
        reason = {"reason": "fault suite: the partnership ends"}
        return [*steps, ("terminate", reason)], "terminated"
    return steps, "active"


async def drive(
    client: Client, pid: str, index: int, task_queue: str, acknowledged: dict[str, list[str]]
) -> None:
    """Start one partnership and send its plan; every command resent until answered."""
    plan, _ = plan_for(index)
    await resilient(
        lambda: client.start_workflow(WORKFLOW, story.proposal(), id=pid, task_queue=task_queue),
        what=f"start {pid}",
    )
    mine = acknowledged.setdefault(pid, [])
    for number, (command, payload) in enumerate(plan):
        body = {**payload, "actor": "fault-suite", "request_id": f"{pid}/{number}/{command}"}
        via_signal = index % 4 == 1 and command == "record_exchange"
        if via_signal:
            handle = client.get_workflow_handle(pid)
            await resilient(
                lambda h=handle, cmd=command, b=body: h.signal(cmd, b), what=f"{pid} {command}"
            )
            exchanges = sum(1 for n, (cmd, _) in enumerate(plan[: number + 1]) if cmd == command)
            await wait_status(client, pid, lambda s, n=exchanges: sum(s["exchanges"].values()) >= n)
        else:
            await update(client, pid, command, body)
        mine.append(body["request_id"])


async def crash_suite(
    partnerships: int = 100,
    kills: int = 20,
    server_restart: bool = True,
    clients: int = 16,
    folder: Path | None = None,
    seed: int | None = None,
) -> Figures:
    """N partnerships through the story while workers are SIGKILLed and the server restarts."""
    figures = Figures("crash", partnerships=partnerships)
    rng = random.Random(seed)
    started = time.monotonic()
    with cluster(folder) as running:
        client = await connect(running.settings)
        run_tag = uuid.uuid4().hex[:6]
        pids = [f"partnership-crash-{run_tag}-{i:04d}" for i in range(partnerships)]
        acknowledged: dict[str, list[str]] = {}
        total = sum(len(plan_for(i)[0]) for i in range(partnerships))
        finished = asyncio.Event()

        def progress() -> int:
            return sum(len(v) for v in acknowledged.values())

        async def chaos() -> None:
            restart_at = max(1, total * 2 // 5)
            restarted = not server_restart
            kill_every = max(total // (kills + 1), 1)
            next_kill = kill_every
            while not finished.is_set():
                await asyncio.sleep(rng.uniform(0.1, 0.4))
                running.keep_workers()
                if not restarted and progress() >= restart_at:
                    await asyncio.to_thread(running.restart_server)
                    restarted = True
                    continue
                if running.kills < kills and progress() >= next_kill:
                    await asyncio.sleep(rng.uniform(0.0, 0.5))  # a random moment
                    running.kill_worker()
                    next_kill += kill_every
            # not reached while running (a fast run): do what is left now
            if not restarted:
                figures.notes.append("server restarted after the clients finished")

        async def clients_run() -> None:
            try:
                await gather_limited(
                    [
                        drive(client, pid, i, running.task_queue, acknowledged)
                        for i, pid in enumerate(pids)
                    ],
                    clients,
                )
            finally:
                finished.set()

        results = await asyncio.gather(clients_run(), chaos(), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                figures.problem(f"driver: {type(result).__name__}: {result}")
        figures.worker_kills = running.kills
        figures.server_restarts = running.server_restarts
        figures.commands_applied = progress()
        # Afterwards: every partnership at its stage, the store exact, audits clean.
        running.keep_workers()
        store = open_store(running.store_url)
        try:
            for i, pid in enumerate(pids):
                expected = plan_for(i)[1]
                try:
                    final = await wait_status(
                        client, pid, lambda s, e=expected: s["stage"] == e, deadline=60
                    )
                except TimeoutError as error:
                    figures.problem(str(error))
                    continue
                figures.completed += 1
                history = check_store(store, pid, acknowledged.get(pid, []), figures)
                if history and history[-1].originator_version != final["version"]:
                    figures.problem(
                        f"{pid}: status version {final['version']}, store"
                        f" {history[-1].originator_version}"
                    )
                plan = plan_for(i)[0]
                commands = [e.command for e in history if e.request_id.startswith(pid)]
                distinct = len({e.request_id for e in history if e.request_id.startswith(pid)})
                if distinct != len(plan):
                    figures.problem(f"{pid}: {distinct} commands stored, {len(plan)} sent")
                del commands
            await stuck_workflows(client, pids, figures)
            await audit(client, store, pids, figures)
        finally:
            store.close()
        figures.worker_exits = running.exits
    figures.seconds = time.monotonic() - started
    return figures


# -- 1b. the store's file locked by another process ----------------------------------------

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


async def lock_suite(
    partnerships: int = 10, hold: float = 4.0, folder: Path | None = None
) -> Figures:
    """Commands arrive while another process holds the store's SQLite file exclusively."""
    figures = Figures("store locked", partnerships=partnerships)
    started = time.monotonic()
    with cluster(folder) as running:
        client = await connect(running.settings)
        tag = uuid.uuid4().hex[:6]
        pids = [f"partnership-lock-{tag}-{i:03d}" for i in range(partnerships)]
        acknowledged: dict[str, list[str]] = {}
        # every partnership exists (so the store file and its tables exist) ...
        await gather_limited(
            [
                resilient(
                    lambda pid=pid: client.start_workflow(
                        WORKFLOW, story.proposal(), id=pid, task_queue=running.task_queue
                    )
                )
                for pid in pids
            ],
            8,
        )
        for pid in pids:
            await wait_status(client, pid, lambda s: s["version"] >= 1, deadline=60)
        # ... then the file is locked and the story's commands arrive meanwhile
        locker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCKER,
            str(running.store_file),
            str(hold),
            stdout=asyncio.subprocess.PIPE,
        )
        assert locker.stdout is not None
        await locker.stdout.readline()
        locked_at = time.monotonic()

        async def one(index: int, pid: str) -> None:
            plan, _ = plan_for(0)
            mine = acknowledged.setdefault(pid, [])
            for number, (command, payload) in enumerate(plan[:5]):
                body = {**payload, "actor": "fault-suite", "request_id": f"{pid}/{number}"}
                await update(client, pid, command, body)
                mine.append(body["request_id"])

        await gather_limited([one(i, pid) for i, pid in enumerate(pids)], 8)
        waited = time.monotonic() - locked_at
        await locker.wait()
        figures.notes.append(f"file held {hold:.0f}s; the commands took {waited:.1f}s")
        figures.commands_applied = sum(len(v) for v in acknowledged.values())
        store = open_store(running.store_url)
        try:
            for pid in pids:
                final = await current_status(client, pid)
                if final["stage"] == "active":
                    figures.completed += 1
                else:
                    figures.problem(f"{pid}: stage {final['stage']}, expected active")
                check_store(store, pid, acknowledged.get(pid, []), figures)
            await stuck_workflows(client, pids, figures)
            await audit(client, store, pids, figures)
        finally:
            store.close()
        figures.worker_exits = running.exits
    figures.seconds = time.monotonic() - started
    return figures


# -- 2. bad input ----------------------------------------------------------------------------

#: A valid payload of every user command (the story's, plus the commands it never sends).
EXTRA_BASES: dict[str, dict[str, Any]] = {
    "upgrade": {"to_tier": "sister_city", "reference": "council resolution 2020-14"},
    "renew": {"term": "P2Y", "reference": "renewal letter"},
    "correct": {"target_version": 3, "reason": "a typo", "correction": {"place": "Cupertino"}},
    "withdraw": {"reason": "priorities changed"},
    "terminate": {"reason": "no longer active"},
}
MIXED_NAMES = ["绵阳 Mianyang", "Мянъян-Cupertino", "ميانيانغ Mianyang", "Ἀθῆναι–東京", "Zoë Ñúñez"]
CONTROL = "".join(chr(i) for i in (*range(0, 32), 127))


def bases() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for command, payload in story.steps(without_request_ids=True):
        found.setdefault(command, {k: v for k, v in payload.items() if k != "actor"})
    return {**found, **EXTRA_BASES}


@dataclass
class BadInput:
    """One generated bad input: where it goes and what the refusal must name."""

    kind: str
    channel: str  # update | signal | start | cli
    command: str
    payload: Any
    expect: str
    cli_signal: bool = False


def _schema_props(model: type[Any]) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    schema = model.model_json_schema()
    return schema.get("properties", {}), set(schema.get("required", [])), schema.get("$defs", {})


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        prop = {**prop, **options[0]} if options else prop
        prop.pop("anyOf", None)
    if "$ref" in prop:
        prop = {
            **defs[prop["$ref"].split("/")[-1]],
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    return prop


def _strategies() -> Any:
    """Hypothesis strategies for bad inputs, derived from the pydantic models."""
    from hypothesis import strategies as st

    valid = bases()
    proposal = story.proposal()
    models: dict[str, type[Any]] = {**USER_COMMANDS, "propose": Proposal}
    junk = st.one_of(
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        st.text(max_size=30),
    )
    names = st.text(alphabet=st.sampled_from(list(CONTROL) + list("Mianyang绵阳Мянь")), max_size=12)

    @st.composite
    def mutated(draw: Any) -> BadInput:
        command = draw(st.sampled_from(sorted(models)))
        base = dict(proposal if command == "propose" else valid[command])
        base.pop("request_id", None)
        props, required, defs = _schema_props(models[command])
        props = {k: v for k, v in props.items() if k not in ("actor", "request_id")} or props
        kind = draw(
            st.sampled_from(
                [
                    "wrong_type",
                    "missing",
                    "extra",
                    "enum",
                    "empty",
                    "huge_string",
                    "huge_list",
                    "control_name",
                    "bad_date",
                    "not_object",
                    "broken_token",
                ]
            )
        )
        payload: Any = dict(base)
        expect = ""
        name = draw(st.sampled_from(sorted(props)))
        prop = _resolve(dict(props[name]), defs)
        kind_of = prop.get("type")
        if kind == "wrong_type":
            payload[name] = draw(junk)
            expect = name
        elif kind == "missing":
            options = sorted(required & set(base)) or sorted(required)
            if not options:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(options))
            payload.pop(name, None)
            expect = f"{name}: required field is missing"
        elif kind == "extra":
            key = draw(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,15}\Z"))
            if key in props or key in ("actor", "request_id"):
                draw(st.just(None).filter(lambda _: False))
            payload[key] = draw(junk)
            expect = f"{key}: unknown field"
        elif kind == "enum":
            enums = {k: _resolve(dict(v), defs).get("enum") for k, v in props.items()}
            enums = {k: v for k, v in enums.items() if v}
            if not enums:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(enums)))
            value = draw(st.text(min_size=0, max_size=20))
            if value.strip() in enums[name]:
                draw(st.just(None).filter(lambda _: False))
            payload[name] = value
            expect = name
        elif kind == "empty":
            texts = [k for k, v in props.items() if _resolve(dict(v), defs).get("minLength")]
            if not texts:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(texts)))
            payload[name] = draw(st.sampled_from(["", " ", "\t \n"]))
            expect = name
        elif kind == "huge_string":
            texts = {k: _resolve(dict(v), defs).get("maxLength") for k, v in props.items()}
            texts = {k: v for k, v in texts.items() if v}
            if not texts:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(texts)))
            extra = draw(st.integers(1, 2_000))
            payload[name] = draw(st.sampled_from(["x", "绵", "😀", "\u0301a"])) * (
                texts[name] + extra
            )
            expect = name
        elif kind == "huge_list":
            lists = {k: _resolve(dict(v), defs) for k, v in props.items()}
            lists = {k: v.get("maxItems") for k, v in lists.items() if v.get("type") == "array"}
            lists = {k: v for k, v in lists.items() if v}
            if not lists:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(lists)))
            item = (base.get(name) or ["economy"])[0]
            payload[name] = [item] * (lists[name] + draw(st.integers(1, 50)))
            expect = name
        elif kind == "control_name":
            # a bad field elsewhere, and control characters / mixed scripts in a name
            people = [
                k for k, v in base.items() if isinstance(v, list) and v and isinstance(v[0], dict)
            ]
            people += [k for k, v in base.items() if isinstance(v, dict) and "name" in v]
            if not people:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(people)))
            value = base[name]
            strange = draw(names)
            if isinstance(value, list):
                payload[name] = [{**value[0], "name": strange, "shoe_size": 44}, *value[1:]]
                expect = f"{name}[0].shoe_size: unknown field"
            else:
                payload[name] = {**value, "name": strange, "shoe_size": 44}
                expect = f"{name}.shoe_size: unknown field"
        elif kind == "bad_date":
            dates = [k for k, v in props.items() if _resolve(dict(v), defs).get("format") == "date"]
            if not dates:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(dates)))
            payload[name] = draw(
                st.one_of(
                    st.dates(max_value=date(1899, 12, 31)).map(str),
                    st.dates(min_value=date(2201, 1, 1)).map(str),
                    st.sampled_from(["2017-02-30", "yesterday", "2017-13-01", "", "17/11/2017"]),
                )
            )
            expect = name
        elif kind == "not_object":
            payload = draw(
                st.one_of(
                    st.lists(st.integers(), max_size=3),
                    st.text(max_size=10),
                    st.integers(),
                    st.booleans(),
                )
            )
            expect = "one JSON object"
        elif kind == "broken_token":
            payload["request_id"] = draw(st.sampled_from(["", "  ", "a\x00b", "x" * 201, 42]))
            expect = "request_id"
        if kind_of is None and kind == "wrong_type" and payload.get(name) is None:
            draw(st.just(None).filter(lambda _: False))
        # only what the model really refuses is a bad input; the refusal names the field
        try:
            if command == "propose":
                parse_proposal(payload)
            else:
                parse_command(command, payload)
        except InvalidInput as error:
            if expect not in str(error):
                return BadInput("unnamed:" + kind, "local", command, payload, expect)
        else:
            draw(st.just(None).filter(lambda _: False))
        channel = (
            "start"
            if command == "propose"
            else draw(st.sampled_from(["update", "update", "update", "signal", "signal", "cli"]))
        )
        return BadInput(kind, channel, command, payload, expect, cli_signal=draw(st.booleans()))

    @st.composite
    def semantic(draw: Any) -> BadInput:
        kind = draw(
            st.sampled_from(
                [
                    "unknown_invitation",
                    "missing_draft",
                    "unknown_command",
                    "replayed",
                    "conflicting",
                    "broken_json",
                ]
            )
        )
        channel = draw(st.sampled_from(["update", "update", "signal", "cli"]))
        if kind == "unknown_invitation":
            invitation = draw(st.from_regex(r"\A[A-Za-z0-9:_-]{1,30}\Z"))
            if invitation in ("inv-1", "inv-2"):
                draw(st.just(None).filter(lambda _: False))
            return BadInput(
                kind,
                channel,
                "answer_invitation",
                {"invitation_id": invitation, "accepted": True},
                "invitation_id",
            )
        if kind == "missing_draft":
            payload = {**valid["sign_memorandum"], "draft_version": draw(st.integers(2, 10**9))}
            payload.pop("request_id", None)
            return BadInput(kind, channel, "sign_memorandum", payload, "draft_version")
        if kind == "unknown_command":
            name = draw(st.text(min_size=1, max_size=40))
            if name in USER_COMMANDS or not name.strip():
                draw(st.just(None).filter(lambda _: False))
            return BadInput(kind, channel, name, {"reason": "x"}, "unknown command")
        if kind in ("replayed", "conflicting"):
            channel = draw(st.sampled_from(["update", "signal"]))
            command = draw(st.sampled_from(["record_meeting", "extend_invitation", "withdraw"]))
            return BadInput(kind, channel, command, {**valid[command]}, "duplicate")
        text = draw(st.sampled_from(["{", '{"a":', "[1,", "nul", '{"reason": "x",}', "'x'"]))
        return BadInput(
            kind, "cli", draw(st.sampled_from(sorted(USER_COMMANDS))), text, "invalid JSON"
        )

    return st.one_of(mutated(), mutated(), mutated(), semantic())


def generate(count: int, seed: int = 7, oversize: int = 4) -> list[BadInput]:
    """`count` bad inputs drawn by hypothesis (deterministic for a seed)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    found: list[BadInput] = []
    strategy = _strategies()

    @with_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: BadInput) -> None:
        found.append(case)

    collect()
    rng = random.Random(seed)
    # payloads over Temporal's 2 MiB limit (and just under it): the text of a draft
    text_base = {k: v for k, v in bases()["draft_memorandum"].items() if k != "text_sha256"}
    sizes = [2_096_000, 2_096_000, 1_600_000, 3_000_000, 2_500_000]
    for number in range(oversize):
        channel = "signal" if number % 2 == 0 else "update"
        text = "\x01" * (sizes[number % len(sizes)] // 6)  # each is 6 bytes of JSON
        found.append(
            BadInput("oversize", channel, "draft_memorandum", {**text_base, "text": text}, "text")
        )
    rng.shuffle(found)
    return found[: max(count, 0) + oversize] if count else found


async def _target(client: Client, task_queue: str, pid: str) -> list[str]:
    """A partnership in talks, with a draft, the approval granted and an open invitation."""
    await client.start_workflow(WORKFLOW, story.proposal(), id=pid, task_queue=task_queue)
    done = []
    for number, (command, payload) in enumerate(story.steps(without_request_ids=True)[:6]):
        if command == "sign_memorandum":
            continue
        body = {**payload, "request_id": f"{pid}/setup/{number}"}
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
            if case.kind in ("replayed", "conflicting"):
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


# -- 3. races ----------------------------------------------------------------------------------


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


# -- the table ---------------------------------------------------------------------------------

COLUMNS = [
    ("scenario", lambda f: f.scenario),
    ("partnerships completed", lambda f: f"{f.completed}/{f.partnerships}"),
    ("commands applied", lambda f: str(f.commands_applied)),
    ("events stored", lambda f: str(f.events_stored)),
    ("duplicates", lambda f: str(f.duplicates)),
    ("losses", lambda f: str(f.losses)),
    (
        "bad inputs rejected cleanly / tried",
        lambda f: f"{f.bad_clean}/{f.bad_tried}" if f.bad_tried else "-",
    ),
    ("stuck workflows", lambda f: str(f.stuck)),
    (
        "reconcile / verify",
        lambda f: (
            "clean"
            if not (f.reconcile_bad or f.verify_bad)
            else f"{f.reconcile_bad} / {f.verify_bad} bad"
        ),
    ),
    (
        "faults injected",
        lambda f: (
            ", ".join(
                part
                for part in (
                    f"{f.worker_kills} worker kills" if f.worker_kills else "",
                    f"{f.server_restarts} server restart" if f.server_restarts else "",
                    f"{f.worker_exits} worker exits" if f.worker_exits else "",
                    f"{f.activity_retries} activity retries" if f.activity_retries else "",
                    *f.notes,
                )
                if part
            )
            or "-"
        ),
    ),
    ("seconds", lambda f: f"{f.seconds:.0f}"),
]


def markdown(results: list[Figures], title: str) -> str:
    head = "| " + " | ".join(name for name, _ in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    rows = ["| " + " | ".join(cell(f) for _, cell in COLUMNS) + " |" for f in results]
    problems = [f"- {f.scenario}: {p}" for f in results for p in f.problems]
    text = [f"# {title}", "", head, rule, *rows, ""]
    if problems:
        text += ["Problems:", "", *problems, ""]
    return "\n".join(text)


def machine() -> str:
    import platform

    cpus = os.cpu_count()
    return f"{platform.node()} ({platform.system()} {platform.machine()}, {cpus} CPUs)"


def print_table(results: list[Figures], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for name, _ in COLUMNS:
        table.add_column(name)
    for figures in results:
        table.add_row(*(cell(figures) for _, cell in COLUMNS))
    console = Console()
    console.print(table)
    for figures in results:
        for problem in figures.problems[:20]:
            console.print(f"[red]{figures.scenario}[/red]: {problem}", markup=True, highlight=False)


SIZES = {
    "full": {"partnerships": 100, "kills": 20, "lock": 40.0, "bad": 5_000, "races": 20},
    "reduced": {"partnerships": 12, "kills": 4, "lock": 4.0, "bad": 300, "races": 3},
}


async def run_all(size: str, seed: int | None = None) -> list[Figures]:
    sizes = SIZES[size]
    results = [
        await crash_suite(int(sizes["partnerships"]), int(sizes["kills"]), seed=seed),
        await lock_suite(10, float(sizes["lock"])),
        await bad_input_suite(int(sizes["bad"]), seed=seed or 7),
        await race_suite(int(sizes["races"])),
    ]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full size (minutes, not seconds)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    args = parser.parse_args(argv)
    size = "full" if args.full else "reduced"
    started = time.monotonic()
    results = asyncio.run(run_all(size, args.seed))
    took = time.monotonic() - started
    title = (
        f"Amity fault suite ({size}) {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()},"
        f" {took:.0f}s"
    )
    print_table(results, title)
    out = args.out or RESULTS / f"faults-{date.today():%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(results, title), encoding="utf-8")
    print(f"wrote {out}")
    return 0 if all(f.ok for f in results) else 1


__all__ = ["Cluster", "Figures", "bad_input_suite", "crash_suite", "lock_suite", "race_suite"]

if __name__ == "__main__":
    sys.exit(main())
