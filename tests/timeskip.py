"""Time skipping for the policy-timer tests: years of a partnership in milliseconds.

A partnership's timers run for what an operator sets (a five-year term, a 90-day renewal
notice, two years to dormancy). Waiting for them in real time would need policies of
seconds, which prove little about dates. Temporal's per-workflow time skipping (V2, in
the dev server we already run, switched on by `SERVER_ARGS`) gives every workflow its own
virtual clock: `workflow.now()`, the timers and the dates the engine records all follow
it, while the worker, its activities (the store append, the webhook reminder and its
retries) and the store run as they do in production.

We advance ONE workflow by a chosen duration, by hand (`advance`), and wait until the
server says that fast-forward has completed: the test decides when time passes, so it
never jumps while a test is still sending commands (as unbounded auto-skipping would).
Workflows are started as usual (no skipping until a test advances them), so everything
between two fast-forwards happens on the real clock.

The API is experimental in temporalio (`temporalio.testing.TimeSkipper`); our exact pin
of temporalio in pyproject.toml is what keeps it stable here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

#: What the dev server needs for per-workflow time skipping (off by default). It changes
#: nothing for a workflow that is never fast-forwarded.
SERVER_ARGS = ("--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true")


class Clock:
    """Moves one workflow's virtual clock forward, on request only."""

    def __init__(self, client: Client) -> None:
        # enabled=False: workflows started through it would not skip by themselves; we
        # only use `fast_forward`, which switches skipping on for one bounded jump.
        self._skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))

    async def advance(self, handle: Any, duration: timedelta) -> None:
        """Advance `handle`'s workflow by `duration` and wait until the server has fired
        every timer due in that span (or the workflow ended first)."""
        await self._skipper.fast_forward(handle, duration)

    async def now(self, handle: Any) -> datetime:
        """The workflow's virtual time (the real time if it was never advanced)."""
        return (await self._skipper.get_current_time(handle)).astimezone(UTC)
