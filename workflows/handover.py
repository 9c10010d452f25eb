"""The gate between a run and its commands, so a hand-over to the next run loses nothing.

Commands pass the gate once the run is ready (its proposal recorded). When the run hands
over (continue-as-new), the gate closes: commands already past it finish first (`drain`),
commands arriving meanwhile wait at the gate, and signals still waiting are carried to the
next run in its input. Updates still waiting are answered "already completed" by Temporal
and resent by their clients with the same request_id (amity/sending.py).
"""

from __future__ import annotations

from temporalio import workflow

from workflows.payloads import PendingSignal


class HandoverGate:
    """Admits commands, drains them before a hand-over, and keeps signals to carry."""

    def __init__(self) -> None:
        self.ready = False
        self.draining = False
        self.active = 0
        #: Signals received but not yet admitted: what a hand-over carries.
        self.waiting: list[PendingSignal] = []

    def open(self) -> None:
        """The run is ready: commands may pass."""
        self.ready = True

    async def admit(self) -> None:
        """Wait until commands may run in this run; counted as active once through.

        A command that reached the workflow before the hand-over began is admitted at
        once (this check runs before the main loop resumes in the same activation); only
        commands arriving during the hand-over wait, and are carried or resent.
        """
        if self.ready and not self.draining:
            self.active += 1
            return
        while True:
            await workflow.wait_condition(lambda: self.ready and not self.draining)
            if not self.draining:  # no await between this check and the count
                self.active += 1
                return

    def leave(self) -> None:
        """A command admitted by `admit` finished (applied or refused)."""
        self.active -= 1

    def hold(self, pending: PendingSignal) -> None:
        """A signal arrived: carried to the next run unless admitted first."""
        self.waiting.append(pending)

    def release(self, pending: PendingSignal) -> None:
        """A signal was admitted: this run owns it now."""
        self.waiting = [p for p in self.waiting if p is not pending]

    async def drain(self) -> None:
        """Close the gate and wait for the commands already past it."""
        self.draining = True
        await workflow.wait_condition(lambda: self.active == 0)

    def reopen(self) -> None:
        """The hand-over did not happen (the partnership ended meanwhile)."""
        self.draining = False
