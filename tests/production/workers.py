"""Worker processes for the production tests: `python worker.py` with an environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_processes(
    count: int, env: dict[str, str], log_dir: Path, ready_timeout: float = 60
) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    """Start `count` workers (`python worker.py`), wait until each polls, stop them after."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    try:
        for n in range(count):
            log = log_dir / f"worker-{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "worker.py"],
                    cwd=ROOT,
                    env=full_env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, log))
        deadline = time.monotonic() + ready_timeout
        for process, log in started:
            while "worker on " not in log.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
        yield started
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
