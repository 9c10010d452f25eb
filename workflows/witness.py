"""CheckpointWitness: a witness of one log's checkpoints, kept by Temporal, not by the store.

One workflow per log (id `amity-witness-<origin>`). A checkpoint arrives as the Update
`add_checkpoint`; its validator applies the witness rule (`tlog.witness.refusal`), so a
checkpoint that is not signed by the pinned key or not consistent with the last one is
refused with its reason and nothing is recorded. Accepted ones stay in the workflow's
history, in Temporal's database: an append-only record the store's writer cannot rewrite.
The state is bounded (the latest checkpoint and a count) and is handed to a new run when
Temporal suggests it. The Query `latest` answers the latest checkpoint (or null).

CheckpointLog is what `amity audit schedule` runs regularly: sign the log and publish.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from tlog.witness import (
        CHECKPOINT_ACTIVITY,
        CHECKPOINT_WORKFLOW,
        QUERY,
        UPDATE,
        WORKFLOW_TYPE,
        AddCheckpoint,
        CheckpointResult,
        WitnessStart,
        WitnessState,
        accept,
        refusal,
    )


@workflow.defn(name=WORKFLOW_TYPE)
class CheckpointWitness:
    @workflow.init
    def __init__(self, start: WitnessStart) -> None:
        self.origin = start.origin
        self.state: WitnessState | None = start.state

    @workflow.run
    async def run(self, start: WitnessStart) -> None:
        await workflow.wait_condition(
            lambda: (
                workflow.info().is_continue_as_new_suggested() and workflow.all_handlers_finished()
            )
        )
        workflow.continue_as_new(WitnessStart(origin=self.origin, state=self.state))

    @workflow.update(name=UPDATE)
    def add_checkpoint(self, request: AddCheckpoint) -> WitnessState:
        # Checked again: another Update may have been applied since this one was validated.
        reason = refusal(self.origin, self.state, request)
        if reason:
            raise ApplicationError(reason, non_retryable=True)
        self.state = accept(self.origin, self.state, request)
        return self.state

    @add_checkpoint.validator
    def check_checkpoint(self, request: AddCheckpoint) -> None:
        reason = refusal(self.origin, self.state, request)
        if reason:
            raise ValueError(reason)

    @workflow.query(name=QUERY)
    def latest(self) -> WitnessState | None:
        return self.state


@workflow.defn(name=CHECKPOINT_WORKFLOW)
class CheckpointLog:
    """What a Schedule runs: one `checkpoint_log` activity (sign, store, publish)."""

    @workflow.run
    async def run(self) -> CheckpointResult:
        result: CheckpointResult = await workflow.execute_activity(
            CHECKPOINT_ACTIVITY,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(maximum_attempts=10, maximum_interval=timedelta(minutes=1)),
            result_type=CheckpointResult,
        )
        return result
