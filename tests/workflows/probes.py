"""Tiny workflows that drive one mechanic of PartnershipWorkflow alone (test_mechanics.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.slices.mark_dormant import MarkDormant
    from workflows.handover import HandoverGate
    from workflows.payloads import PendingSignal
    from workflows.policy_timer import PolicyTimer
    from workflows.timers import Timer


@workflow.defn(name="PolicyTimerProbe")
class PolicyTimerProbe:
    """Waits on a policy timer `seconds` after its start; `poke` wakes it and keeps the
    deadline (None) or moves it to `seconds` from now; `stop` ends it."""

    @workflow.init
    def __init__(self, seconds: float) -> None:
        self.timer = PolicyTimer()
        self.woken = False
        self.stopped = False
        self.at = workflow.now() + timedelta(seconds=seconds)
        self.outcomes: list[str] = []

    @workflow.signal
    def poke(self, seconds: float | None) -> None:
        if seconds is not None:
            self.at = workflow.now() + timedelta(seconds=seconds)
        self.woken = True

    @workflow.signal
    def stop(self) -> None:
        self.stopped = self.woken = True

    @workflow.query
    def rounds(self) -> list[str]:
        return self.outcomes

    @workflow.run
    async def run(self, seconds: float) -> list[str]:
        while not self.stopped:
            timer = Timer(at=self.at, wait=self.at - workflow.now(), command=MarkDormant())
            fired = await self.timer.wait(timer, woken=lambda: self.woken)
            self.woken = False
            self.outcomes.append("fired" if fired else "woken")
            if fired:
                break
        self.timer.cancel()
        return self.outcomes


@workflow.defn(name="HandoverGateProbe")
class HandoverGateProbe:
    """Commands (signals) pass a gate; `hand_over` drains it and reports what it carries."""

    def __init__(self) -> None:
        self.gate = HandoverGate()
        self.finish: set[str] = set()
        self.applied: list[str] = []
        self.handing_over = False

    @workflow.signal(unfinished_policy=workflow.HandlerUnfinishedPolicy.ABANDON)
    async def command(self, name: str) -> None:
        pending = PendingSignal(name=name)
        self.gate.hold(pending)
        await self.gate.admit()
        self.gate.release(pending)
        try:
            await workflow.wait_condition(lambda: name in self.finish)
            self.applied.append(name)
        finally:
            self.gate.leave()

    @workflow.signal
    def done(self, name: str) -> None:
        self.finish.add(name)

    @workflow.signal
    def hand_over(self) -> None:
        self.handing_over = True

    @workflow.query
    def waiting(self) -> list[str]:
        return [p.name for p in self.gate.waiting]

    @workflow.query
    def active(self) -> int:
        return self.gate.active

    @workflow.run
    async def run(self) -> dict[str, list[str]]:
        self.gate.open()
        await workflow.wait_condition(lambda: self.handing_over)
        await self.gate.drain()
        return {"applied": self.applied, "carried": [p.name for p in self.gate.waiting]}
