"""A small sampling profiler for every thread of a process (py-spy is not installed, and
cProfile sees only the thread that enabled it, while a worker runs workflows, activities
and the event loop on different threads).

Every `interval` seconds it records each thread's stack; the report counts, per function,
the samples where it was running (self) or on the stack (total). Samples of threads that
are only waiting (in the event loop's selector, a queue, a lock) are left out.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path
from types import FrameType

IDLE = (
    "selectors.py",
    "threading.py:wait",
    "queue.py:get",
    "concurrent/futures/thread.py:_worker",
    "sampler.py",
)


def _name(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_name}"


class Sampler:
    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.own: Counter[str] = Counter()
        self.total: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack = []
                current: FrameType | None = frame
                while current is not None:
                    stack.append(_name(current))
                    current = current.f_back
                if any(marker in stack[0] for marker in IDLE):
                    continue
                self.samples += 1
                self.own[stack[0]] += 1
                for name in set(stack):
                    self.total[name] += 1

    def report(self, top: int = 40) -> str:
        lines = [f"{self.samples} busy samples every {self.interval * 1000:.0f} ms", ""]
        lines.append("self%  function (where the thread was running)")
        for name, count in self.own.most_common(top):
            lines.append(f"{100 * count / max(self.samples, 1):5.1f}  {name}")
        lines.append("")
        lines.append("total%  function (on the stack)")
        for name, count in self.total.most_common(top):
            lines.append(f"{100 * count / max(self.samples, 1):5.1f}  {name}")
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        path.write_text(self.report() + "\n", encoding="utf-8")
