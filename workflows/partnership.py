"""PartnershipWorkflow: one partnership's life, from proposal to its end, on Temporal.

The workflow decides and never does I/O: every command is checked by the pure decider,
then its events are appended to the event store by the `record_events` activity, then
folded into the workflow's state. Commands are applied one at a time (a lock), so an
Update's answer and the store's order are the order in which commands were applied.

Every command of the catalogue (domain/registry.py) is an Update (validated first: a refused
one records nothing) and a Signal of the same name (a refused one is listed in
`status.rejected` and recorded in the store); workflows/command_handlers.py adds them.
The mechanics live beside it: the policy timer (policy_timer.py), the hand-over gate
(handover.py), the payloads (payloads.py) and the patches (patches.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities.messages import RecordRequest, RecordResult, TargetRequest
    from activities.reminders import Reminder, ReminderActivities
    from activities.store import StoreActivities
    from domain.catalogue import USER_COMMANDS, user_commands
    from domain.decider import decide, evolve, fold
    from domain.errors import one_line, shorten
    from domain.events import AnyEvent
    from domain.forgetting import ForgetMark, holds, replace_names
    from domain.limits import MAX_STATE_BYTES, state_too_large
    from domain.messages import Command
    from domain.parsing import InvalidInput, parse_command, parse_proposal
    from domain.registry import Rejection
    from domain.slices.correct import Correct, CorrectionTarget, needs_stored_target
    from domain.slices.propose import Proposal, decide_proposal, refuse_proposal
    from domain.slices.record_rejected_signal import RecordRejectedSignal
    from domain.state import KEEP_ALL, CommandOutcome, PartnershipState, Status, to_status
    from workflows.command_handlers import with_command_handlers
    from workflows.handover import HandoverGate
    from workflows.patches import (
        BOUNDED_STATE,
        FORGET_HANDS_OVER,
        HANDOVER_GATE,
        PRINTABLE_TEXT,
        QUIET_HISTORY,
        REQUEST_FINGERPRINTS,
        STATE_BUDGET,
    )
    from workflows.payloads import (
        NOTHING,
        Carried,
        PendingSignal,
        decode,
        oversize,
        parse_printable,
    )
    from workflows.policy_timer import PolicyTimer
    from workflows.requests import AppliedRequests
    from workflows.search import search_key, search_updates, summary
    from workflows.timers import Timer, due_timer

ENGINE = "amity-engine"
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

__all__ = ["NOTHING", "Carried", "PartnershipWorkflow", "PendingSignal"]


def _growth(events: Sequence[AnyEvent]) -> int:
    """An upper bound of how much `events` add to the state's JSON (a record holds at most
    its event's fields, plus its version)."""
    return sum(len(event.model_dump_json()) + 64 for event in events)


@workflow.defn(name="PartnershipWorkflow", failure_exception_types=[ValidationError])
@with_command_handlers(user_commands())
class PartnershipWorkflow:
    """Runs one partnership; its workflow id is the partnership id."""

    @workflow.init
    def __init__(self, input: RawValue = NOTHING) -> None:
        self._input_error: str | None = None
        self._unprintable_proposal: str | None = None
        self._proposal: Proposal | None = None
        self._state: PartnershipState | None = None
        self._keep_all = False
        self._applied = AppliedRequests()
        self._runs = 1
        self._commands_this_run = 0
        self._state_bytes: int | None = None  # an upper bound of the state's JSON size
        self._changed = False
        self._engine_refused_at: int | None = None
        self._last_events: list[AnyEvent] = []
        # Persons `amity forget` named to this run (by salted digest): dropped from the
        # state now and from commands still in flight when they finish.
        self._forget_marks: list[ForgetMark] = []
        self._hand_over_now = False
        self._timer = PolicyTimer()
        self._published: tuple[str, ...] | None = None
        self._lock = asyncio.Lock()
        self._gate = HandoverGate()
        self._carried_signals: list[PendingSignal] = []
        try:
            data = decode(input)
            if isinstance(data, dict) and "carried" in data:
                # Every record kept until the run knows whether it keeps them (`run`).
                previous_run = Carried.model_validate(data, context={KEEP_ALL: True})
                self._state = previous_run.carried
                self._applied = AppliedRequests(previous_run.applied, previous_run.fingerprints)
                self._carried_signals = list(previous_run.pending_signals)
                self._runs = previous_run.runs
            else:
                proposal, self._unprintable_proposal = parse_printable(
                    lambda printable: parse_proposal(data, printable)
                )
                self._proposal = proposal
                # Provisional state (version 0) so `status` answers before the store does.
                proposed = decide_proposal(workflow.info().workflow_id, proposal, workflow.now())
                self._state = evolve(None, proposed[0], 0)
        except InvalidInput as error:
            self._input_error = f"invalid proposal: {error}".replace("propose: ", "")
        except ValidationError as error:
            self._input_error = f"invalid carried state: {one_line(error)}"

    # -- the life ------------------------------------------------------------------------

    @workflow.run
    async def run(self, input: RawValue = NOTHING) -> Status:
        self._choose_state_shape()
        self._refuse_a_bad_start()
        if self._proposal is not None:
            await self._record_proposal(self._proposal)
        self._gate.open()
        self._publish()
        for pending in self._carried_signals:
            await self._process_signal(pending)
        while not self._current.stage.is_terminal:
            if self._should_continue_as_new():
                await self._hand_over()
            quiet = QUIET_HISTORY.new_code()
            timer = self._next_timer()
            if timer is not None and timer.wait <= timedelta(0):
                self._timer.cancel()
                await self._apply_engine(timer.command)
                continue
            self._changed = False
            if quiet:
                fired = await self._timer.wait(timer, woken=self._woken)
            else:
                fired = await self._wait_v1(timer)
            if fired and timer is not None:
                await self._apply_engine(timer.command)
        self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return to_status(self._current)

    def _choose_state_shape(self) -> None:
        """A new run keeps a bounded state; a run from before, replayed, keeps every record
        (its decisions, the state-size refusal among them, depended on them)."""
        self._keep_all = not BOUNDED_STATE.new_code()
        if self._state is not None:
            self._state = self._hold(self._state if self._keep_all else self._state.bounded())

    def _hold(self, state: PartnershipState) -> PartnershipState:
        """`state` in this run's shape (every record kept only in a run from before)."""
        return state.keeping_all() if self._keep_all else state

    def _refuse_a_bad_start(self) -> None:
        """A proposal that does not validate fails the workflow at once, with its reason."""
        unprintable = self._unprintable_proposal
        if unprintable is not None and self._input_error is None and PRINTABLE_TEXT.new_code():
            self._input_error = f"invalid proposal: {unprintable}".replace("propose: ", "")
        if self._input_error is not None:
            raise ApplicationError(self._input_error, type="InvalidProposal", non_retryable=True)

    def _woken(self) -> bool:
        """Something the loop must look at: a command was applied, or it is time to hand over."""
        return self._changed or self._should_continue_as_new()

    async def _wait_v1(self, timer: Timer | None) -> bool:
        """The first loop: a fresh timer after every change (kept for old histories)."""
        try:
            await workflow.wait_condition(
                self._woken,
                timeout=timer.wait if timer else None,
                timeout_summary=timer.command.name if timer else None,
            )
        except TimeoutError:
            return True
        return False

    async def _hand_over(self) -> None:
        """Continue as new with the state, the remembered request ids and waiting signals."""
        HANDOVER_GATE.new_code()  # deprecated: it only marks new runs; the old path is gone
        await self._gate.drain()
        if self._current.stage.is_terminal:
            self._gate.reopen()
            return
        applied, fingerprints = self._applied.newest()
        workflow.continue_as_new(
            Carried(
                carried=self._current,
                applied=applied,
                fingerprints=fingerprints,
                pending_signals=list(self._gate.waiting),
                runs=self._runs + 1,
            )
        )

    async def _record_proposal(self, proposal: Proposal) -> None:
        info = workflow.info()
        # New partnerships run their timers from effective dates (domain/clock.py). No patch:
        # the clock is data in the proposal's event, and the state is folded from the events
        # the store returns, so a replayed older run keeps the recording clock it stored
        # (tests/workflows/test_patches.py would fail a patch that no history needs).
        refused = refuse_proposal(proposal, workflow.now())
        if refused is not None:
            raise ApplicationError(
                f"invalid proposal: {refused}", type="InvalidProposal", non_retryable=True
            )
        events: list[AnyEvent] = [
            *decide_proposal(info.workflow_id, proposal, workflow.now(), effective_clock=True)
        ]
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
        self._state = self._hold(
            self._without_forgotten(evolve(None, stored[0], result.version - len(events) + 1))
        )
        self._applied.remember(
            CommandOutcome(command="propose", request_id=request_id, version=result.version)
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
        return self._gate.ready and (
            self._hand_over_now
            or workflow.info().is_continue_as_new_suggested()
            or self._commands_this_run >= COMMANDS_PER_RUN
        )

    def _publish(self) -> None:
        """Search attributes (when they change) and the UI's current details follow the state."""
        state = self._current
        key = search_key(state)
        if key != self._published or not QUIET_HISTORY.new_code():
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
        return await workflow.execute_activity_method(
            StoreActivities.record_events,
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
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORE_RETRY,
            summary=f"record {command}",
        )

    async def _apply(self, command: Command, via: str) -> CommandOutcome:
        """Decide, record, evolve: one command at a time. Raises ApplicationError if refused."""
        await self._gate.admit()
        try:
            return await self._apply_now(command, via)
        finally:
            self._gate.leave()

    async def _apply_now(self, command: Command, via: str) -> CommandOutcome:
        async with self._lock:
            request_id = command.request_id or str(workflow.uuid4())
            earlier = self._applied.earlier(request_id)
            if earlier is not None:
                reused = self._applied.reused(request_id, command)
                # Runs from before the patch answered any repeat "already applied".
                if reused is not None and REQUEST_FINGERPRINTS.new_code():
                    raise ApplicationError(reused, type="RequestIdReused", non_retryable=True)
                return earlier.model_copy(update={"duplicate": True})
            state = self._current
            if isinstance(command, Correct) and needs_stored_target(state, command):
                command = await self._with_stored_target(command)
            decision = decide(state, command, workflow.now())
            if isinstance(decision, Rejection):
                raise ApplicationError(decision.reason, type="CommandRejected", non_retryable=True)
            growth = _growth(decision)
            if via != "engine":
                too_big = self._over_budget(command, decision, growth)
                if too_big is not None and STATE_BUDGET.new_code():
                    raise ApplicationError(too_big, type="CommandRejected", non_retryable=True)
            actor = command.actor or (ENGINE if via == "engine" else "unknown")
            result = await self._record(
                command.name, via, actor, request_id, state.version, decision
            )
            # The store's copy drops forgotten persons: fold what it stored.
            folded = fold(result.events or decision, state)
            assert folded is not None
            self._state = self._hold(self._without_forgotten(folded))
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
            self._applied.remember(outcome, command)
            self._commands_this_run += 1
            self._changed = True
            self._publish()
            return outcome

    async def _with_stored_target(self, command: Correct) -> Correct:
        """A correction of a record the state no longer keeps: its target as the event
        store holds it, read before deciding (the decision stays pure)."""
        version = command.target_version
        found = await workflow.execute_activity_method(
            StoreActivities.correction_target,
            TargetRequest(partnership_id=workflow.info().workflow_id, version=version),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=STORE_RETRY,
            summary=f"read version {version}",
        )
        return command.with_target(found or CorrectionTarget(version=version, event_type="none"))

    def _over_budget(self, command: Command, events: Sequence[AnyEvent], growth: int) -> str | None:
        """Why applying `events` would make the state too large to carry, or None. Cheap:
        a running upper bound, measured exactly only when the bound passes the budget."""
        if isinstance(command, RecordRejectedSignal):
            return None  # bounded list; refusing it would lose the refusal
        if self._state_bytes is None:
            self._state_bytes = self._current.size()
        if self._state_bytes + growth <= MAX_STATE_BYTES:
            return None
        state = fold(events, self._current)
        assert state is not None
        exact = state.size()
        self._state_bytes = self._current.size()
        return state_too_large(command.name, exact)

    async def _apply_engine(self, command: Command) -> None:
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
                summary=f"{summary(self._current)}: {event.summary()}",
                event=event.model_dump(mode="json"),
            )
            try:
                await workflow.execute_activity_method(
                    ReminderActivities.deliver_reminder,
                    reminder,
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=timedelta(hours=1),
                    retry_policy=REMINDER_RETRY,
                    summary=f"remind {event.type}",
                )
            except ActivityError as error:
                workflow.logger.error("reminder %s not delivered: %s", reminder.id, error)

    # -- what every command's Update and Signal call (workflows/command_handlers.py) -------

    async def _update(self, name: str, raw: RawValue) -> Status:
        command = parse_command(name, decode(raw))
        outcome = await self._apply(command, "update")
        return to_status(self._current, outcome)

    def _validate(self, name: str, raw: RawValue) -> None:
        """Refuse before anything is recorded: bad payload, or a rule the state breaks."""
        if self._input_error is not None:
            raise ApplicationError(self._input_error, type="InvalidProposal")
        too_large = oversize(name, raw)
        if too_large is not None:
            raise ApplicationError(too_large, type="InvalidCommand")
        try:
            command = parse_command(name, decode(raw), printable=True)
        except InvalidInput as error:
            raise ApplicationError(str(error), type="InvalidCommand") from None
        if command.request_id and command.request_id in self._applied:
            # The id's earlier command and payload, or a refusal that records nothing.
            reused = self._applied.reused(command.request_id, command)
            if reused is not None:
                raise ApplicationError(reused, type="RequestIdReused")
            return  # a repeat: the handler answers with the earlier outcome
        if isinstance(command, Correct) and needs_stored_target(self._current, command):
            return  # its target is read from the store first: the handler decides
        decision = decide(self._current, command, workflow.now())
        if isinstance(decision, Rejection):
            raise ApplicationError(decision.reason, type="CommandRejected")
        too_big = self._over_budget(command, decision, _growth(decision))
        if too_big is not None:
            raise ApplicationError(too_big, type="CommandRejected")

    async def _signal(self, name: str, raw: RawValue) -> None:
        """Queue a signal; it is applied here, or carried to the next run if one begins."""
        too_large = oversize(name, raw)
        try:
            if too_large is not None:
                raise InvalidInput(too_large)
            pending = PendingSignal(name=name, data=decode(raw))
        except InvalidInput as error:
            pending = PendingSignal(name=name, error=str(error))
        self._gate.hold(pending)
        await self._process_signal(pending)

    async def _process_signal(self, pending: PendingSignal) -> None:
        """Apply a signal; a refused one is recorded as rejected and never fails the run."""
        await self._gate.admit()
        # Synchronously after the gate: from here this run owns the signal.
        self._gate.release(pending)
        try:
            await self._apply_signal(pending)
        finally:
            self._gate.leave()

    async def _apply_signal(self, pending: PendingSignal) -> None:
        name, data = pending.name, pending.data
        request_id: str | None = None
        if isinstance(data, dict) and isinstance(data.get("request_id"), str):
            request_id = data["request_id"][:200]
        try:
            if pending.error is not None:
                raise InvalidInput(pending.error)
            command, unprintable = parse_printable(
                lambda printable: parse_command(name, data, printable)
            )
            if unprintable is not None and PRINTABLE_TEXT.new_code():
                raise InvalidInput(unprintable)
            await self._apply_now(command, "signal")
            return
        except InvalidInput as error:
            reason = str(error)
        except ApplicationError as error:
            reason = error.message
        except ActivityError as error:
            workflow.logger.error("signal %s could not be recorded: %s", name, error)
            return
        if self._input_error is not None:
            return
        record = RecordRejectedSignal(
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
            mark = ForgetMark.model_validate(decode(payload))
        except (InvalidInput, ValidationError):
            workflow.logger.warning("forget_person without a valid mark: ignored")
            return
        self._forget_marks.append(mark)
        if FORGET_HANDS_OVER.new_code():
            self._hand_over_now = True
        if self._state is not None:
            self._state = self._hold(self._without_forgotten(self._state))
        for pending in [*self._gate.waiting, *self._carried_signals]:
            pending.data = replace_names(pending.data, mark.matches)  # in place: tracked by id

    @workflow.query(name="status_holds_person")
    def holds_person(self, payload: RawValue = NOTHING) -> bool:
        """Whether this run holds the name a forget mark stands for (`amity forget` asks
        before it signals, so partnerships that never named the person hear nothing).
        Named to sort after `status`: the Web UI's Queries tab opens on the first name."""
        try:
            mark = ForgetMark.model_validate(decode(payload))
        except (InvalidInput, ValidationError):
            raise ApplicationError(
                "status_holds_person needs a forget mark (amity forget sends it)",
                type="InvalidQuery",
            ) from None
        if self._state is not None and holds(self._state.model_dump(mode="json"), mark.matches):
            return True
        pending = [*self._gate.waiting, *self._carried_signals]
        return any(holds(p.data, mark.matches) for p in pending)

    # -- queries -------------------------------------------------------------------------

    @workflow.query(name="status")
    def status(self) -> Status:
        if self._state is None:
            raise ApplicationError(self._input_error or "the partnership is not started")
        return to_status(self._state)

    # -- anything else ------------------------------------------------------------------

    @workflow.signal(dynamic=True)
    async def unknown_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """A signal name the contract does not know is recorded as rejected, not dropped."""
        pending = PendingSignal(name=name, error=f"unknown command {name[:60]!r}")
        self._gate.hold(pending)
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
