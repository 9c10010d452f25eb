"""Group commit: appends that arrive while a commit is under way share the next one.

A durable commit (a sync of the write-ahead log) costs far more than the inserts before it,
and a worker appends for many partnerships at once. So each caller queues its command; the
first caller to find nobody committing becomes the leader, takes every queued command,
writes them in one transaction and one sync, and wakes their callers; if more commands
queued meanwhile, it hands the lead to the oldest of them and returns. Nobody waits for a
timer: an append alone commits at once, and under load a batch is whatever arrived during
the previous commit. Every caller returns only after the transaction holding its command
committed, so an applied command is on disk before its caller hears so.

A failure of the batch (one command's insert conflicting, say) is never shared: the batch
is then written again one command per transaction, and each caller gets its own outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Job = TypeVar("Job")

#: Most commands in one transaction (bounds its size and the leader's turn).
MAX_BATCH = 256


class _Slot(Generic[Job]):
    __slots__ = ("done", "error", "job", "lead")

    def __init__(self, job: Job) -> None:
        self.job = job
        #: Made only for a caller that has to wait (one alone never does).
        self.done: threading.Event | None = None
        self.error: BaseException | None = None
        self.lead = False


class GroupCommit(Generic[Job]):
    """`write(jobs)` writes jobs in ONE transaction and commits it (raising if it failed);
    `submit(job)` returns once its job is committed, or raises what failed it alone."""

    def __init__(self, write: Callable[[Sequence[Job]], None], max_batch: int = MAX_BATCH) -> None:
        self._write = write
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot[Job]] = []
        self._leading = False
        #: Transactions committed and commands in them (for tests and the benchmarks).
        self.transactions = 0
        self.commands = 0

    @property
    def queued(self) -> int:
        """Commands waiting for the next transaction (not the one being written)."""
        with self._lock:
            return len(self._queue)

    def submit(self, job: Job) -> None:
        slot = _Slot(job)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            if lead:
                self._leading = True
            else:
                slot.done = threading.Event()
        if slot.done is not None:
            slot.done.wait()
            if not slot.lead:
                if slot.error is not None:
                    raise slot.error
                return
        self._lead()
        if slot.error is not None:
            raise slot.error

    def _lead(self) -> None:
        """Write one batch (ours is at its head), then pass the lead on or put it down."""
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            self._commit(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    if successor.done is not None:
                        successor.done.set()
                else:
                    self._leading = False
            for slot in batch:
                slot.lead = False
                if slot.done is not None:
                    slot.done.set()

    def _commit(self, batch: list[_Slot[Job]]) -> None:
        try:
            self._write([slot.job for slot in batch])
        except BaseException as error:  # noqa: BLE001 - handed to the callers
            if len(batch) == 1:
                batch[0].error = error
                return
            # Whose command failed it? Each alone in a transaction of its own.
            for slot in batch:
                try:
                    self._write([slot.job])
                except BaseException as alone:  # noqa: BLE001 - handed to its own caller
                    slot.error = alone
                else:
                    self._count(1)
            return
        self._count(len(batch))

    def _count(self, commands: int) -> None:
        self.transactions += 1
        self.commands += commands
