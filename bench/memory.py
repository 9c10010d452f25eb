"""The memory case: peak resident memory. The worker's comes from the lifecycle run (it runs both
workers, measured when it exits); `amity audit verify` runs as its own process on logs of
10^3 .. 10^6 entries and reports its own peak (VmHWM)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from bench.common import Options, Row, say

ROOT = Path(__file__).resolve().parent.parent


#: Runs the CLI in this process and then writes its own VmHWM (peak RSS of this program only:
#: wait4()'s ru_maxrss would also count the benchmark's memory from before exec). It calls
#: `main`, not the console script, which ends with os._exit and would skip the report.
RUN_AND_REPORT = """
import sys
from amity.cli import main
path = sys.argv[1]
code = 0
try:
    main(["audit", "verify", "--no-witness", "--allow-unwitnessed"])
except SystemExit as done:
    code = done.code if isinstance(done.code, int) else 1
status = open("/proc/self/status").read()
with open(path, "w") as out:
    out.write(status.split("VmHWM:")[1].split()[0])
raise SystemExit(code)
"""


def verify_peak_rss(url: str, workdir: Path) -> tuple[float, int]:
    """Run `amity audit verify` on `url`; (peak RSS in MiB, exit code)."""
    # The bench's logs have no checkpoint and no witness: a throwaway configured key is the
    # trusted one, so verify does its whole work (the tree) and exits 0.
    seed = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "AMITY_EVENT_STORE_URL": url, "COLUMNS": "200", "AMITY_AUDIT_KEY": seed}
    env.pop("AMITY_AUDIT_PUBLIC_KEY", None)
    report = workdir / "verify-rss.txt"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, str(report)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    return int(report.read_text()) / 1024, done.returncode


def peak_rss(pid: int) -> float:
    """A live process's peak RSS (VmHWM) in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def measure(
    opts: Options, logs: dict[int, str], worker_rss: float | None, workdir: Path
) -> list[Row]:
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
        # One run per size in a smoke run (a harness check: it needs a number, not a median).
        for _ in range(1 if opts.smoke else max(1, min(opts.repeat, 2))):
            rss, code = verify_peak_rss(url, workdir)
            if code != 0:
                raise RuntimeError(f"amity audit verify exited {code} on the {size}-entry log")
            samples.append(rss)
        say(f"memory: audit verify at {size:,} entries: {samples} MiB")
        rows.append(
            Row("7 memory", f"audit verify peak RSS at n={size:,}", "MiB", samples, better="lower")
        )
    return rows
