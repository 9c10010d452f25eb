"""Case 7: peak resident memory. The worker's comes from the lifecycle run (it runs both
workers, measured when it exits); `amity audit verify` runs as its own process on logs of
10^3 .. 10^6 entries, and its peak RSS is read from wait4()'s rusage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import Options, Row, say

ROOT = Path(__file__).resolve().parent.parent


def verify_peak_rss(url: str) -> tuple[float, int]:
    """Run `amity audit verify` on `url`; (peak RSS in MiB, exit code)."""
    env = {**os.environ, "AMITY_EVENT_STORE_URL": url, "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "amity.cli", "audit", "verify"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, process.returncode


def measure(opts: Options, logs: dict[int, str], worker_rss: float | None) -> list[Row]:
    rows = []
    if worker_rss is not None:
        rows.append(
            Row(
                "7 memory",
                f"worker peak RSS (after {opts.repeat + 1} lifecycle rounds, both workers)",
                "MiB",
                [worker_rss],
                better="lower",
            )
        )
    for size, url in sorted(logs.items()):
        samples = []
        for _ in range(max(1, min(opts.repeat, 2))):
            rss, code = verify_peak_rss(url)
            if code != 0:
                raise RuntimeError(f"amity audit verify exited {code} on the {size}-entry log")
            samples.append(rss)
        say(f"memory: audit verify at {size:,} entries: {samples} MiB")
        rows.append(
            Row("7 memory", f"audit verify peak RSS at n={size:,}", "MiB", samples, better="lower")
        )
    return rows
