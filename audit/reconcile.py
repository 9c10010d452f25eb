"""`audit reconcile`: does Temporal's history tell the same story as the event store?

Every applied command is one completed `record_events` activity in some run of the
partnership's workflow (runs chain by continue-as-new; a partnership id may also begin
a new life). Its input names the request id, the expected version and the events; its
result the version reached. The store must hold exactly those events, at those
versions, under that request id, and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from activities.messages import RecordRequest, RecordResult
from domain.aggregate import PartnershipEvent
from store.application import PartnershipStore

WORKFLOW_TYPE = "PartnershipWorkflow"
ACTIVITY = "record_events"


@dataclass(frozen=True)
class Recorded:
    """One command as Temporal saw it recorded."""

    run_id: str
    request_id: str
    command: str
    expected_version: int | None
    types: tuple[str, ...]
    version: int
    duplicate: bool

    @property
    def versions(self) -> list[int]:
        return list(range(self.version - len(self.types) + 1, self.version + 1))


@dataclass
class TemporalSide:
    runs: list[str] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)
    updates: int = 0
    signals: int = 0
    timers: int = 0


@dataclass
class Reconciliation:
    partnership_id: str
    runs: int = 0
    commands: int = 0
    events: int = 0
    updates: int = 0
    signals: int = 0
    timers: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different)


def _decode(payloads: Sequence[Any], kind: type) -> Any:
    return pydantic_data_converter.payload_converter.from_payloads(payloads, [kind])[0]


def read_history(events: Sequence[HistoryEvent], run_id: str, side: TemporalSide) -> str | None:
    """Collect one run's recorded commands; return the run it continued from, if any."""
    scheduled: dict[int, RecordRequest] = {}
    previous: str | None = None
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            attrs = event.workflow_execution_started_event_attributes
            previous = attrs.continued_execution_run_id or None
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled_attrs = event.activity_task_scheduled_event_attributes
            if scheduled_attrs.activity_type.name == ACTIVITY:
                scheduled[event.event_id] = _decode(scheduled_attrs.input.payloads, RecordRequest)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes
            request = scheduled.pop(done.scheduled_event_id, None)
            if request is not None:
                result: RecordResult = _decode(done.result.payloads, RecordResult)
                side.recorded.append(
                    Recorded(
                        run_id=run_id,
                        request_id=request.request_id,
                        command=request.command,
                        expected_version=request.expected_version,
                        types=tuple(e.type for e in request.events),
                        version=result.version,
                        duplicate=result.duplicate,
                    )
                )
        elif kind in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        ):
            for attrs_name in (
                "activity_task_failed_event_attributes",
                "activity_task_timed_out_event_attributes",
                "activity_task_canceled_event_attributes",
            ):
                if event.HasField(attrs_name):
                    scheduled.pop(getattr(event, attrs_name).scheduled_event_id, None)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            side.updates += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            side.signals += 1
        elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
            side.timers += 1
    side.in_flight.update(request.request_id for request in scheduled.values())
    return previous


async def _decode_codec(client: Client, events: Sequence[HistoryEvent]) -> None:
    """Undo the client's payload codec (AMITY_PAYLOAD_KEY) on the payloads read here."""
    codec = client.data_converter.payload_codec
    if codec is None:
        return
    for event in events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            container = event.activity_task_scheduled_event_attributes.input.payloads
        elif event.HasField("activity_task_completed_event_attributes"):
            container = event.activity_task_completed_event_attributes.result.payloads
        else:
            continue
        decoded = await codec.decode(list(container))
        del container[:]
        container.extend(decoded)


async def temporal_side(client: Client, workflow_id: str) -> TemporalSide:
    """Every run of the workflow id (visibility, plus the continue-as-new chain)."""
    side = TemporalSide()
    pending: list[str] = []
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
        pending.append(description.run_id)
    except RPCError:
        pass
    async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"'):
        pending.append(execution.run_id)
    seen: set[str] = set()
    while pending:
        run_id = pending.pop()
        if run_id in seen:
            continue
        seen.add(run_id)
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        await _decode_codec(client, history.events)
        side.runs.append(run_id)
        previous = read_history(history.events, run_id, side)
        if previous:
            pending.append(previous)
    return side


def compare(
    partnership_id: str, side: TemporalSide, stored: list[PartnershipEvent]
) -> Reconciliation:
    report = Reconciliation(
        partnership_id,
        runs=len(side.runs),
        events=len(stored),
        updates=side.updates,
        signals=side.signals,
        timers=side.timers,
    )
    by_request: dict[str, list[PartnershipEvent]] = {}
    for event in stored:
        by_request.setdefault(event.request_id, []).append(event)
    expected: dict[str, Recorded] = {}
    for recorded in side.recorded:
        # the first completed attempt that wrote wins; a later duplicate confirms it
        if recorded.request_id not in expected or expected[recorded.request_id].duplicate:
            expected[recorded.request_id] = recorded
    report.commands = len(expected)
    for request_id, recorded in expected.items():
        label = f"{recorded.command} (request {request_id}, run {recorded.run_id})"
        found = by_request.get(request_id)
        if not found:
            span = (
                f"v{recorded.version}"
                if len(recorded.types) == 1
                else f"v{recorded.versions[0]}..v{recorded.version}"
            )
            report.missing.append(
                f"{span} {', '.join(recorded.types)} of {label}: not in the store"
            )
            continue
        versions = [e.originator_version for e in found]
        types = tuple(e.event.type for e in found)
        if recorded.duplicate:
            if max(versions) != recorded.version:
                report.different.append(
                    f"{label}: Temporal was told v{recorded.version}, the store has {versions}"
                )
            continue
        if versions != recorded.versions or types != recorded.types:
            missing = sorted(set(recorded.versions) - set(versions))
            if missing and set(versions) <= set(recorded.versions):
                report.missing.append(
                    f"v{', v'.join(map(str, missing))} of {label}: not in the store"
                    f" (Temporal recorded {', '.join(recorded.types)})"
                )
            else:
                report.different.append(
                    f"{label}: Temporal recorded {list(recorded.types)} at {recorded.versions},"
                    f" the store has {list(types)} at {versions}"
                )
        elif any(e.run_id not in side.runs for e in found):
            report.different.append(f"{label}: the store names another run")
    for request_id, found in by_request.items():
        if request_id in expected:
            continue
        if request_id in side.in_flight:
            report.notes.append(f"request {request_id}: recorded, activity still in flight")
            continue
        for event in found:
            report.extra.append(
                f"v{event.originator_version} {event.event.type} ({event.command}, request"
                f" {request_id}, run {event.run_id}): not in Temporal's history"
            )
    return report


async def reconcile(client: Client, store: PartnershipStore, partnership_id: str) -> Reconciliation:
    side = await temporal_side(client, partnership_id)
    stored = store.history(partnership_id)
    if not side.runs and not stored:
        raise LookupError(f"{partnership_id}: neither Temporal nor the store knows it")
    report = compare(partnership_id, side, stored)
    if not side.runs:
        report.notes.append("no workflow history in Temporal (deleted, or past retention?)")
    return report


async def partnership_ids(client: Client, query: str | None = None) -> list[str]:
    """Every partnership workflow id the server lists (each once)."""
    full = f'WorkflowType = "{WORKFLOW_TYPE}"' + (f" AND ({query})" if query else "")
    found: dict[str, None] = {}
    async for execution in client.list_workflows(full):
        found.setdefault(execution.id, None)
    return list(found)
