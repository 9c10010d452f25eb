"""What every case shares: samples, medians, ratios to a floor, and the result rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console

#: Progress lines go to stderr (wide enough to read when piped); the table to stdout.
log = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 180)


@dataclass
class Options:
    """The harness's knobs (`python -m bench --help`)."""

    partnerships: int = 60
    latency_partnerships: int = 12
    events: int = 1_000_000
    long_events: int = 10_000
    as_of_version: int = 9_000
    date_events: int = 100_000
    appends: int = 2_000
    proof_sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    repeat: int = 3
    postgres: bool = True
    workdir: str = ""
    smoke: bool = False


@dataclass
class Row:
    """One line of the table: a measured value, its floor, and the ratio between them."""

    case: str
    metric: str
    unit: str
    samples: list[float]
    floor_samples: list[float] = field(default_factory=list)
    floor_label: str = ""
    #: "higher" when a bigger value is better (rates), "lower" for times.
    better: str = "higher"
    #: The target on the ratio (value / floor), e.g. ">= 0.85", or on the value itself.
    target: str = ""
    target_met: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def floor_median(self) -> float | None:
        return statistics.median(self.floor_samples) if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        floor = self.floor_median
        if floor is None or floor == 0:
            return None
        return self.median / floor

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            median=self.median,
            min=min(self.samples) if self.samples else None,
            max=max(self.samples) if self.samples else None,
            floor_median=self.floor_median,
            floor_min=min(self.floor_samples) if self.floor_samples else None,
            floor_max=max(self.floor_samples) if self.floor_samples else None,
            ratio=self.ratio,
        )
        return data


def check(row: Row, value: float | None, op: str, bound: float) -> Row:
    """Set `target` and `target_met` for `value op bound` (value: the ratio or the median)."""
    row.target = f"{op} {bound:g}"
    if value is not None and value == value:  # not NaN
        row.target_met = value >= bound if op == ">=" else value <= bound
    return row


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...; elapsed()` in seconds."""
    started = time.perf_counter()
    done: list[float] = []
    yield lambda: done[0] if done else time.perf_counter() - started
    done.append(time.perf_counter() - started)


def say(text: str) -> None:
    log.log(text)
