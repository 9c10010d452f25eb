"""PartnershipWorkflow: one partnership's life, from proposal to its end, on Temporal.

The workflow decides and never does I/O: every command is checked by the pure decider,
then its events are appended to the event store by the `record_events` activity, then
folded into the workflow's state. Commands are applied one at a time (a lock), so an
Update's answer and the store's order are the order in which commands were applied.

Every command is an Update (validated first: a refused one records nothing) and a Signal
of the same name (a refused one is listed in `status.rejected` and recorded in the store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from activities.messages import RecordRequest, RecordResult
    from activities.reminders import Delivery, Reminder
    from domain import commands as c
    from domain.decider import Rejection, decide, decide_proposal, evolve
    from domain.describe import summarise_event
    from domain.errors import one_line, shorten
    from domain.events import AnyEvent
    from domain.forgetting import ForgetMark, holds, replace_names
    from domain.limits import MAX_PAYLOAD_BYTES, MAX_STATE_BYTES, state_too_large, too_large
    from domain.sealed import PLAINTEXT_REFUSED
    from domain.state import CommandOutcome, PartnershipState, Status, to_status
    from workflows.search import search_key, search_updates, summary
    from workflows.timers import Timer, due_timer

ENGINE = "amity-engine"
#: An Update still waiting when the run hands over is answered "already completed";
#: clients resend it (same request_id) to the next run: amity/sending.py.
ABANDON_ON_HANDOVER = workflow.HandlerUnfinishedPolicy.ABANDON
#: Patch ids: each names a change to the commands this workflow issues (see README).
HANDOVER_GATE = "handover-gate-carries-signals"
#: Search attributes upserted only when they change; a policy timer kept while unchanged.
QUIET_HISTORY = "quiet-history"
#: A signal too large to record is refused instead of scheduled (issue 7: it failed every
#: workflow task for ever, because the activity's input passed Temporal's 2 MiB limit).
PAYLOAD_LIMIT = "payload-size-limit"
#: Control characters in people's text are refused (issue 7); runs that accepted them before
#: keep doing so on replay.
PRINTABLE_TEXT = "printable-text"
#: A command whose state would pass MAX_STATE_BYTES is refused: a state too large to carry
#: to the next run would fail every workflow task at continue-as-new (issue 7).
STATE_BUDGET = "state-budget"
#: After `amity forget` the run hands over to a new one at once, so every run whose history
#: holds the forgotten name is closed and the namespace's retention period deletes it.
FORGET_HANDS_OVER = "forget-hands-over"
#: How many applied request ids are remembered for idempotency (carried across runs).
REMEMBERED_REQUESTS = 5_000
#: ... within this many bytes, so that with a state of MAX_STATE_BYTES the continue-as-new
#: input stays under Temporal's 2 MiB.
REMEMBERED_BYTES = 600_000
#: Continue as new at this many applied commands even if Temporal has not suggested it.
COMMANDS_PER_RUN = 2_000
#: Events that people should hear about, not only find in the history.
REMINDER_EVENTS = frozenset({"talks_deadline_passed", "renewal_due", "became_dormant", "expired"})
REMINDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["WebhookRefused"],
)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["IllegalEvent", "StoreConflict"],
)


#: What a handler receives when the sender sent no payload at all.
NOTHING = RawValue(Payload())


class PendingSignal(BaseModel):
    """A signal received but not yet applied (carried to the next run if need be)."""

    name: str
    data: Any = None
    error: str | None = None


class Carried(BaseModel):
    """Everything a run hands to the next one when it continues as new."""

    carried: PartnershipState
    applied: dict[str, CommandOutcome] = {}
    pending_signals: list[PendingSignal] = []
    runs: int = 1


T = TypeVar("T")


def _parse_printable(parse: Callable[[bool], T]) -> tuple[T, str | None]:
    """Parse refusing control characters (one parse when the input is fine). When only
    they are wrong: the lenient result and the reason, so the caller can ask
    `workflow.patched(PRINTABLE_TEXT)` only when it matters (runs from before the patch
    accepted such input). Any other mistake raises InvalidInput as the lenient parse says."""
    try:
        return parse(True), None
    except c.InvalidInput as strict:
        return parse(False), str(strict)


def _growth(events: Sequence[AnyEvent]) -> int:
    """An upper bound of how much `events` add to the state's JSON (a record holds at most
    its event's fields, plus its version)."""
    return sum(len(event.model_dump_json()) + 64 for event in events)


def _decode(raw: RawValue) -> Any:
    """A raw payload as plain JSON data (None when the sender sent nothing)."""
    if raw.payload is None or not raw.payload.metadata:
        return None
    if raw.payload.metadata.get("encoding") == PLAINTEXT_REFUSED:
        raise c.InvalidInput(raw.payload.data.decode(errors="replace"))
    try:
        return workflow.payload_converter().from_payload(raw.payload)
    except Exception:  # noqa: BLE001 - any undecodable payload is the sender's mistake
        raise c.InvalidInput("the payload must be one JSON object") from None


def _oversize(name: str, raw: RawValue) -> str | None:
    """Why a payload is too large to record (naming its largest field), or None."""
    size = len(raw.payload.data) if raw.payload is not None else 0
    if size <= MAX_PAYLOAD_BYTES:
        return None
    try:
        data = workflow.payload_converter().from_payload(raw.payload)
    except Exception:  # noqa: BLE001 - the size is the reason; the field is a hint
        data = None
    return too_large(name, size, data)


@workflow.defn(name="PartnershipWorkflow", failure_exception_types=[ValidationError])
class PartnershipWorkflow:
    """Runs one partnership; its workflow id is the partnership id."""

    @workflow.init
    def __init__(self, input: RawValue = NOTHING) -> None:
        self._input_error: str | None = None
        self._unprintable_proposal: str | None = None
        self._proposal: c.Proposal | None = None
        self._state: PartnershipState | None = None
        self._applied: dict[str, CommandOutcome] = {}
        self._runs = 1
        self._commands_this_run = 0
        self._state_bytes: int | None = None  # an upper bound of the state's JSON size
        self._ready = False
        self._changed = False
        self._engine_refused_at: int | None = None
        self._last_events: list[AnyEvent] = []
        # Persons `amity forget` named to this run (by salted digest): dropped from the
        # state now and from commands still in flight when they finish.
        self._forget_marks: list[ForgetMark] = []
        self._hand_over_now = False
        self._timer_task: asyncio.Task[None] | None = None
        self._timer_key: tuple[datetime, str] | None = None
        self._published: tuple[str, ...] | None = None
        self._lock = asyncio.Lock()
        # Hand-over to a new run: while draining, new commands wait at the gate; commands
        # past the gate finish first; signals still waiting are carried to the next run.
        self._draining = False
        self._active_commands = 0
        self._waiting_signals: list[PendingSignal] = []
        self._carried_signals: list[PendingSignal] = []
        try:
            data = _decode(input)
            if isinstance(data, dict) and "carried" in data:
                carried = Carried.model_validate(data)
                self._state = carried.carried
                self._applied = dict(carried.applied)
                self._carried_signals = list(carried.pending_signals)
                self._runs = carried.runs
            else:
                proposal, self._unprintable_proposal = _parse_printable(
                    lambda printable: c.parse_proposal(data, printable)
                )
                self._proposal = proposal
                # Provisional state (version 0) so `status` answers before the store does.
                proposed = decide_proposal(workflow.info().workflow_id, proposal, workflow.now())
                self._state = evolve(None, proposed[0], 0)
        except c.InvalidInput as error:
            self._input_error = f"invalid proposal: {error}".replace("propose: ", "")
        except ValidationError as error:
            self._input_error = f"invalid carried state: {one_line(error)}"

    # -- the life ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RawValue = NOTHING) -> Status:
        unprintable = self._unprintable_proposal
        if (
            unprintable is not None
            and self._input_error is None
            and workflow.patched(PRINTABLE_TEXT)
        ):
            self._input_error = f"invalid proposal: {unprintable}".replace("propose: ", "")
        if self._input_error is not None:
            raise ApplicationError(self._input_error, type="InvalidProposal", non_retryable=True)
        if self._proposal is not None:
            await self._record_proposal(self._proposal)
        self._ready = True
        self._publish()
        for pending in self._carried_signals:
            await self._process_signal(pending)
        while not self._current.stage.is_terminal:
            if self._should_continue_as_new():
                if workflow.patched(HANDOVER_GATE):
                    await self._continue_as_new()
                else:
                    await self._continue_as_new_v1()
            if workflow.patched(QUIET_HISTORY):
                await self._wait_keeping_the_timer()
            else:
                await self._wait_v1()
        self._drop_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return to_status(self._current)

    async def _wait_keeping_the_timer(self) -> None:
        """Wait for a change or the next policy timer; an unchanged timer keeps running."""
        timer = self._next_timer()
        if timer is not None and timer.wait <= timedelta(0):
            self._drop_timer()
            await self._apply_engine(timer.command)
            return
        key = (timer.at, timer.command.name) if timer else None
        if key != self._timer_key:
            self._drop_timer()
            if timer is not None:
                self._timer_task = asyncio.create_task(
                    workflow.sleep(timer.wait, summary=timer.command.name)
                )
            self._timer_key = key
        self._changed = False
        fired = self._timer_task
        await workflow.wait_condition(
            lambda: (
                self._changed
                or self._should_continue_as_new()
                or (fired is not None and fired.done())
            )
        )
        if timer is not None and fired is not None and fired.done():
            self._timer_task, self._timer_key = None, None
            await self._apply_engine(timer.command)

    def _drop_timer(self) -> None:
        if self._timer_task is not None and not self._timer_task.done():
            self._timer_task.cancel()
        self._timer_task, self._timer_key = None, None

    async def _wait_v1(self) -> None:
        """The first loop: a fresh timer after every change (kept for old histories)."""
        timer = self._next_timer()
        if timer is not None and timer.wait <= timedelta(0):
            await self._apply_engine(timer.command)
            return
        self._changed = False
        try:
            await workflow.wait_condition(
                lambda: self._changed or self._should_continue_as_new(),
                timeout=timer.wait if timer else None,
                timeout_summary=timer.command.name if timer else None,
            )
        except TimeoutError:
            assert timer is not None
            await self._apply_engine(timer.command)

    async def _continue_as_new(self) -> None:
        """Let commands in progress finish, then hand the state to a new run."""
        self._draining = True
        await workflow.wait_condition(lambda: self._active_commands == 0)
        if self._current.stage.is_terminal:
            self._draining = False
            return
        workflow.continue_as_new(
            Carried(
                carried=self._current,
                applied=self._remembered(),
                pending_signals=list(self._waiting_signals),
                runs=self._runs + 1,
            )
        )

    async def _continue_as_new_v1(self) -> None:
        """The first hand-over: wait for every handler (kept for histories made with it)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        if not self._current.stage.is_terminal:
            workflow.continue_as_new(
                Carried(carried=self._current, applied=self._remembered(), runs=self._runs + 1)
            )

    async def _pass_gate(self) -> None:
        """Wait until commands may run in this run; counted as active once through.

        A command that reached the workflow before the hand-over began is admitted at
        once (this check runs before the main loop resumes in the same activation); only
        commands arriving during the hand-over wait, and are carried or resent.
        """
        if self._ready and not self._draining:
            self._active_commands += 1
            return
        while True:
            await workflow.wait_condition(lambda: self._ready and not self._draining)
            if not self._draining:  # no await between this check and the count
                self._active_commands += 1
                return

    async def _record_proposal(self, proposal: c.Proposal) -> None:
        info = workflow.info()
        events = decide_proposal(info.workflow_id, proposal, workflow.now())
        # Keyed by the first run, not the sender's request_id: a partnership id can begin a
        # new life after a terminal stage, and that proposal must not look like a repeat.
        request_id = f"propose:{info.first_execution_run_id}"
        try:
            result = await self._record(
                "propose", "start", proposal.actor or "unknown", request_id, None, events
            )
        except ActivityError as error:
            cause = error.cause.message if isinstance(error.cause, ApplicationError) else str(error)
            raise ApplicationError(
                f"cannot start {info.workflow_id}: {cause}", type="StoreRefused", non_retryable=True
            ) from None
        stored = result.events or events  # the store's copy drops forgotten persons
        self._state = self._without_forgotten(
            evolve(None, stored[0], result.version - len(events) + 1)
        )
        self._applied[request_id] = CommandOutcome(
            command="propose", request_id=request_id, version=result.version
        )

    @property
    def _current(self) -> PartnershipState:
        assert self._state is not None
        return self._state

    def _next_timer(self) -> Timer | None:
        """The next policy timer, unless the engine was just refused at this version."""
        if self._engine_refused_at == self._current.version:
            return None
        return due_timer(self._current, workflow.now())

    def _should_continue_as_new(self) -> bool:
        return self._ready and (
            self._hand_over_now
            or workflow.info().is_continue_as_new_suggested()
            or self._commands_this_run >= COMMANDS_PER_RUN
        )

    def _remembered(self) -> dict[str, CommandOutcome]:
        """The newest applied request ids, as many as fit beside the state in the next
        run's input (REMEMBERED_REQUESTS, at most REMEMBERED_BYTES)."""
        kept: list[tuple[str, CommandOutcome]] = []
        size = 0
        for request_id, outcome in reversed(list(self._applied.items())[-REMEMBERED_REQUESTS:]):
            size += 2 * len(request_id) + 160  # key, its copy in the outcome, the rest
            if size > REMEMBERED_BYTES:
                break
            kept.append((request_id, outcome))
        return dict(reversed(kept))

    def _publish(self) -> None:
        """Search attributes (when they change) and the UI's current details follow the state."""
        state = self._current
        key = search_key(state)
        if key != self._published or not workflow.patched(QUIET_HISTORY):
            workflow.upsert_search_attributes(search_updates(state))
            self._published = key
        workflow.set_current_details(f"**{summary(state)}** (version {state.version})")

    # -- applying commands ---------------------------------------------------------------

    async def _record(
        self,
        command: str,
        via: str,
        actor: str,
        request_id: str,
        expected_version: int | None,
        events: list[AnyEvent],
    ) -> RecordResult:
        info = workflow.info()
        result: RecordResult = await workflow.execute_activity(
            "record_events",
            RecordRequest(
                partnership_id=info.workflow_id,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                command=command,
                via=via,
                actor=actor,
                request_id=request_id,
                expected_version=expected_version,
                events=events,
            ),
            result_type=RecordResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORE_RETRY,
            summary=f"record {command}",
        )
        return result

    async def _apply(self, command: c.Command, via: str) -> CommandOutcome:
        """Decide, record, evolve: one command at a time. Raises ApplicationError if refused."""
        await self._pass_gate()
        try:
            return await self._apply_now(command, via)
        finally:
            self._active_commands -= 1

    async def _apply_now(self, command: c.Command, via: str) -> CommandOutcome:
        async with self._lock:
            request_id = command.request_id or str(workflow.uuid4())
            earlier = self._applied.get(request_id)
            if earlier is not None:
                return earlier.model_copy(update={"duplicate": True})
            state = self._current
            decision = decide(state, command, workflow.now())
            if isinstance(decision, Rejection):
                raise ApplicationError(decision.reason, type="CommandRejected", non_retryable=True)
            growth = _growth(decision)
            if via != "engine":
                too_big = self._over_budget(command, decision, growth)
                if too_big is not None and workflow.patched(STATE_BUDGET):
                    raise ApplicationError(too_big, type="CommandRejected", non_retryable=True)
            actor = command.actor or (ENGINE if via == "engine" else "unknown")
            result = await self._record(
                command.name, via, actor, request_id, state.version, decision
            )
            version = state.version
            for event in result.events or decision:  # the store's copy drops forgotten persons
                version += 1
                state = evolve(state, event, version)
            self._state = self._without_forgotten(state)
            self._last_events = decision
            if self._state_bytes is not None:
                self._state_bytes += growth
            outcome = CommandOutcome(
                command=command.name,
                request_id=request_id,
                version=result.version,
                draft_version=next(
                    (ev.draft_version for ev in decision if ev.type == "memorandum_drafted"), None
                ),
                invitation_id=next(
                    (ev.invitation_id for ev in decision if ev.type == "invitation_extended"), None
                ),
            )
            self._applied[request_id] = outcome
            self._commands_this_run += 1
            self._changed = True
            self._publish()
            return outcome

    def _over_budget(
        self, command: c.Command, events: Sequence[AnyEvent], growth: int
    ) -> str | None:
        """Why applying `events` would make the state too large to carry, or None. Cheap:
        a running upper bound, measured exactly only when the bound passes the budget."""
        if isinstance(command, c.RecordRejectedSignal):
            return None  # bounded list; refusing it would lose the refusal
        if self._state_bytes is None:
            self._state_bytes = len(self._current.model_dump_json())
        if self._state_bytes + growth <= MAX_STATE_BYTES:
            return None
        state, version = self._current, self._current.version
        for event in events:
            version += 1
            state = evolve(state, event, version)
        exact = len(state.model_dump_json())
        self._state_bytes = len(self._current.model_dump_json())
        return state_too_large(command.name, exact)

    async def _apply_engine(self, command: c.Command) -> None:
        """A policy timer fired: record it unless a command got there first."""
        stamped = command.model_copy(
            update={
                "actor": ENGINE,
                "request_id": f"engine:{command.name}:{self._current.version}",
            }
        )
        try:
            outcome = await self._apply(stamped, "engine")
        except (ApplicationError, ActivityError) as error:
            # Never loop on a refused timer: wait for the next change instead.
            self._engine_refused_at = self._current.version
            workflow.logger.warning("engine %s not applied: %s", command.name, error)
            return
        await self._remind(outcome)

    async def _remind(self, outcome: CommandOutcome) -> None:
        """Deliver the reminder of an engine event; a failed delivery never stops the life."""
        events = self._last_events
        for offset, event in enumerate(events):
            if event.type not in REMINDER_EVENTS:
                continue
            version = outcome.version - len(events) + 1 + offset
            partnership_id = workflow.info().workflow_id
            reminder = Reminder(
                id=f"{partnership_id}:{version}",
                partnership_id=partnership_id,
                kind=event.type,
                version=version,
                summary=f"{summary(self._current)}: {summarise_event(event)}",
                event=event.model_dump(mode="json"),
            )
            try:
                await workflow.execute_activity(
                    "deliver_reminder",
                    reminder,
                    result_type=Delivery,
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=timedelta(hours=1),
                    retry_policy=REMINDER_RETRY,
                    summary=f"remind {event.type}",
                )
            except ActivityError as error:
                workflow.logger.error("reminder %s not delivered: %s", reminder.id, error)

    async def _update(self, name: str, raw: RawValue) -> Status:
        command = c.parse_command(name, _decode(raw))
        outcome = await self._apply(command, "update")
        return to_status(self._current, outcome)

    def _validate(self, name: str, raw: RawValue) -> None:
        """Refuse before anything is recorded: bad payload, or a rule the state breaks."""
        if self._input_error is not None:
            raise ApplicationError(self._input_error, type="InvalidProposal")
        too_large = _oversize(name, raw)
        if too_large is not None:
            raise ApplicationError(too_large, type="InvalidCommand")
        try:
            command = c.parse_command(name, _decode(raw), printable=True)
        except c.InvalidInput as error:
            raise ApplicationError(str(error), type="InvalidCommand") from None
        if command.request_id and command.request_id in self._applied:
            return  # a repeat: the handler answers with the earlier outcome
        decision = decide(self._current, command, workflow.now())
        if isinstance(decision, Rejection):
            raise ApplicationError(decision.reason, type="CommandRejected")
        too_big = self._over_budget(command, decision, _growth(decision))
        if too_big is not None:
            raise ApplicationError(too_big, type="CommandRejected")

    async def _signal(self, name: str, raw: RawValue) -> None:
        """Queue a signal; it is applied here, or carried to the next run if one begins."""
        too_large = _oversize(name, raw)
        try:
            if too_large is not None and workflow.patched(PAYLOAD_LIMIT):
                raise c.InvalidInput(too_large)
            pending = PendingSignal(name=name, data=_decode(raw))
        except c.InvalidInput as error:
            pending = PendingSignal(name=name, error=str(error))
        self._waiting_signals.append(pending)
        await self._process_signal(pending)

    async def _process_signal(self, pending: PendingSignal) -> None:
        """Apply a signal; a refused one is recorded as rejected and never fails the run."""
        await self._pass_gate()
        # Synchronously after the gate: from here this run owns the signal.
        self._waiting_signals = [p for p in self._waiting_signals if p is not pending]
        try:
            await self._apply_signal(pending)
        finally:
            self._active_commands -= 1

    async def _apply_signal(self, pending: PendingSignal) -> None:
        name, data = pending.name, pending.data
        request_id: str | None = None
        if isinstance(data, dict) and isinstance(data.get("request_id"), str):
            request_id = data["request_id"][:200]
        try:
            if pending.error is not None:
                raise c.InvalidInput(pending.error)
            command, unprintable = _parse_printable(
                lambda printable: c.parse_command(name, data, printable)
            )
            if unprintable is not None and workflow.patched(PRINTABLE_TEXT):
                raise c.InvalidInput(unprintable)
            await self._apply_now(command, "signal")
            return
        except c.InvalidInput as error:
            reason = str(error)
        except ApplicationError as error:
            reason = error.message
        except ActivityError as error:
            workflow.logger.error("signal %s could not be recorded: %s", name, error)
            return
        if self._input_error is not None:
            return
        record = c.RecordRejectedSignal(
            command=shorten(name, 100),
            reason=reason,
            sender_request_id=request_id,
            actor=ENGINE,
            request_id=f"rejected:{workflow.uuid4()}",
        )
        try:
            await self._apply_now(record, "signal")
        except (ApplicationError, ActivityError) as error:
            workflow.logger.error("rejected signal %s not recorded: %s", name, error)

    # -- forgetting a person ---------------------------------------------------------------

    def _forgotten(self, name: str) -> bool:
        return any(mark.matches(name) for mark in self._forget_marks)

    def _without_forgotten(self, state: PartnershipState) -> PartnershipState:
        """The state with every person named by a forget mark reading [forgotten]."""
        if not self._forget_marks:
            return state
        data = state.model_dump(mode="json")
        redacted = replace_names(data, self._forgotten)
        if redacted is data:
            return state
        self._state_bytes = None  # measured again when next needed
        return PartnershipState.model_validate(redacted)

    @workflow.signal(name="forget_person")
    def forget_person(self, payload: RawValue = NOTHING) -> None:
        """`amity forget`: drop a person's name from everything this run holds (its state,
        signals waiting or carried); it comes as a salted digest, never as the name. The
        state carried to the next run, `status` and Update results no longer hold it."""
        try:
            mark = ForgetMark.model_validate(_decode(payload))
        except (c.InvalidInput, ValidationError):
            workflow.logger.warning("forget_person without a valid mark: ignored")
            return
        self._forget_marks.append(mark)
        if workflow.patched(FORGET_HANDS_OVER):
            self._hand_over_now = True
        if self._state is not None:
            self._state = self._without_forgotten(self._state)
        for pending in [*self._waiting_signals, *self._carried_signals]:
            pending.data = replace_names(pending.data, mark.matches)  # in place: tracked by id

    @workflow.query(name="holds_person")
    def holds_person(self, payload: RawValue = NOTHING) -> bool:
        """Whether this run holds the name a forget mark stands for (`amity forget` asks
        before it signals, so partnerships that never named the person hear nothing)."""
        try:
            mark = ForgetMark.model_validate(_decode(payload))
        except (c.InvalidInput, ValidationError):
            raise ApplicationError(
                "holds_person needs a forget mark", type="InvalidQuery"
            ) from None
        if self._state is not None and holds(self._state.model_dump(mode="json"), mark.matches):
            return True
        pending = [*self._waiting_signals, *self._carried_signals]
        return any(holds(p.data, mark.matches) for p in pending)

    # -- queries -------------------------------------------------------------------------

    @workflow.query(name="status")
    def status(self) -> Status:
        if self._state is None:
            raise ApplicationError(self._input_error or "the partnership is not started")
        return to_status(self._state)

    # -- updates and signals: one of each per command -------------------------------------

    @workflow.update(name="open_talks", unfinished_policy=ABANDON_ON_HANDOVER)
    async def open_talks(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("open_talks", payload)

    @open_talks.validator
    def _check_open_talks(self, payload: RawValue = NOTHING) -> None:
        self._validate("open_talks", payload)

    @workflow.signal(name="open_talks")
    async def open_talks_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("open_talks", payload)

    @workflow.update(name="record_meeting", unfinished_policy=ABANDON_ON_HANDOVER)
    async def record_meeting(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("record_meeting", payload)

    @record_meeting.validator
    def _check_record_meeting(self, payload: RawValue = NOTHING) -> None:
        self._validate("record_meeting", payload)

    @workflow.signal(name="record_meeting")
    async def record_meeting_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("record_meeting", payload)

    @workflow.update(name="draft_memorandum", unfinished_policy=ABANDON_ON_HANDOVER)
    async def draft_memorandum(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("draft_memorandum", payload)

    @draft_memorandum.validator
    def _check_draft_memorandum(self, payload: RawValue = NOTHING) -> None:
        self._validate("draft_memorandum", payload)

    @workflow.signal(name="draft_memorandum")
    async def draft_memorandum_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("draft_memorandum", payload)

    @workflow.update(name="record_approval", unfinished_policy=ABANDON_ON_HANDOVER)
    async def record_approval(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("record_approval", payload)

    @record_approval.validator
    def _check_record_approval(self, payload: RawValue = NOTHING) -> None:
        self._validate("record_approval", payload)

    @workflow.signal(name="record_approval")
    async def record_approval_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("record_approval", payload)

    @workflow.update(name="sign_memorandum", unfinished_policy=ABANDON_ON_HANDOVER)
    async def sign_memorandum(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("sign_memorandum", payload)

    @sign_memorandum.validator
    def _check_sign_memorandum(self, payload: RawValue = NOTHING) -> None:
        self._validate("sign_memorandum", payload)

    @workflow.signal(name="sign_memorandum")
    async def sign_memorandum_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("sign_memorandum", payload)

    @workflow.update(name="record_exchange", unfinished_policy=ABANDON_ON_HANDOVER)
    async def record_exchange(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("record_exchange", payload)

    @record_exchange.validator
    def _check_record_exchange(self, payload: RawValue = NOTHING) -> None:
        self._validate("record_exchange", payload)

    @workflow.signal(name="record_exchange")
    async def record_exchange_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("record_exchange", payload)

    @workflow.update(name="extend_invitation", unfinished_policy=ABANDON_ON_HANDOVER)
    async def extend_invitation(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("extend_invitation", payload)

    @extend_invitation.validator
    def _check_extend_invitation(self, payload: RawValue = NOTHING) -> None:
        self._validate("extend_invitation", payload)

    @workflow.signal(name="extend_invitation")
    async def extend_invitation_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("extend_invitation", payload)

    @workflow.update(name="answer_invitation", unfinished_policy=ABANDON_ON_HANDOVER)
    async def answer_invitation(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("answer_invitation", payload)

    @answer_invitation.validator
    def _check_answer_invitation(self, payload: RawValue = NOTHING) -> None:
        self._validate("answer_invitation", payload)

    @workflow.signal(name="answer_invitation")
    async def answer_invitation_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("answer_invitation", payload)

    @workflow.update(name="upgrade", unfinished_policy=ABANDON_ON_HANDOVER)
    async def upgrade(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("upgrade", payload)

    @upgrade.validator
    def _check_upgrade(self, payload: RawValue = NOTHING) -> None:
        self._validate("upgrade", payload)

    @workflow.signal(name="upgrade")
    async def upgrade_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("upgrade", payload)

    @workflow.update(name="renew", unfinished_policy=ABANDON_ON_HANDOVER)
    async def renew(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("renew", payload)

    @renew.validator
    def _check_renew(self, payload: RawValue = NOTHING) -> None:
        self._validate("renew", payload)

    @workflow.signal(name="renew")
    async def renew_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("renew", payload)

    @workflow.update(name="correct", unfinished_policy=ABANDON_ON_HANDOVER)
    async def correct(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("correct", payload)

    @correct.validator
    def _check_correct(self, payload: RawValue = NOTHING) -> None:
        self._validate("correct", payload)

    @workflow.signal(name="correct")
    async def correct_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("correct", payload)

    @workflow.update(name="withdraw", unfinished_policy=ABANDON_ON_HANDOVER)
    async def withdraw(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("withdraw", payload)

    @withdraw.validator
    def _check_withdraw(self, payload: RawValue = NOTHING) -> None:
        self._validate("withdraw", payload)

    @workflow.signal(name="withdraw")
    async def withdraw_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("withdraw", payload)

    @workflow.update(name="terminate", unfinished_policy=ABANDON_ON_HANDOVER)
    async def terminate(self, payload: RawValue = NOTHING) -> Status:
        return await self._update("terminate", payload)

    @terminate.validator
    def _check_terminate(self, payload: RawValue = NOTHING) -> None:
        self._validate("terminate", payload)

    @workflow.signal(name="terminate")
    async def terminate_signal(self, payload: RawValue = NOTHING) -> None:
        await self._signal("terminate", payload)

    # -- anything else ------------------------------------------------------------------

    @workflow.signal(dynamic=True)
    async def unknown_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """A signal name the contract does not know is recorded as rejected, not dropped."""
        pending = PendingSignal(name=name, error=f"unknown command {name[:60]!r}")
        self._waiting_signals.append(pending)
        await self._process_signal(pending)

    @workflow.update(dynamic=True)
    async def unknown_update(self, name: str, payloads: Sequence[RawValue]) -> Status:
        raise ApplicationError(f"unknown command {name[:60]!r}", type="InvalidCommand")

    @unknown_update.validator
    def _check_unknown_update(self, name: str, payloads: Sequence[RawValue]) -> None:
        known = ", ".join(USER_COMMANDS)
        raise ApplicationError(
            f"unknown command {name[:60]!r}; known commands: {known}", type="InvalidCommand"
        )
