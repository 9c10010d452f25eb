"""One durable timer for the partnership's next policy deadline, kept while it stays the same.

Like samples-python's `updatable_timer`, but the deadline is recomputed from the state by
the caller on every turn: a timer whose deadline and command are unchanged keeps running
(no new timer in the history after every command), a changed one is cancelled and replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

from workflows.timers import Timer


class PolicyTimer:
    """The running timer (if any) and what it was started for."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._key: tuple[datetime, str] | None = None

    async def wait(self, timer: Timer | None, woken: Callable[[], bool]) -> bool:
        """Wait until `timer` fires (True) or `woken()` holds (False); an unchanged timer
        keeps running across calls, a changed one is replaced."""
        self._keep(timer)
        fired = self._task
        await workflow.wait_condition(lambda: woken() or (fired is not None and fired.done()))
        if fired is not None and fired.done():
            self._task, self._key = None, None
            return True
        return False

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task, self._key = None, None

    @property
    def running_for(self) -> tuple[datetime, str] | None:
        """The deadline and command of the running timer."""
        return self._key

    def _keep(self, timer: Timer | None) -> None:
        key = (timer.at, timer.command.name) if timer else None
        if key == self._key:
            return
        self.cancel()
        if timer is not None:
            self._task = asyncio.create_task(workflow.sleep(timer.wait, summary=timer.command.name))
        self._key = key
