"""Bulk reads without the cyclic garbage collector's pauses.

A rebuild or a verification keeps tens of thousands of fresh objects alive per batch (events,
states, rows); every few hundred allocations Python's collector walks all of them, which cost
a third of the time of a projection rebuild. The objects of a batch hold no reference
cycles (pydantic models, tuples, bytes), so reference counting frees them anyway; the
collector is paused for one batch at a time and runs normally between batches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
