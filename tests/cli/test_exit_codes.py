"""The real console script ends with its documented exit code, every time.

`amity status` used to end now and then with "Segmentation fault" (139) or "Aborted" (134)
after printing its answer or its error: the interpreter tore itself down while the Temporal
core's threads still ran. The command now flushes its output and leaves with `os._exit`.
These runs are subprocesses of `.venv/bin/amity`, a few at a time (the machine is shared).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runtime.devserver import DevServer, free_port

AMITY = Path(sys.executable).parent / "amity"
PARALLEL = 4
#: Enough runs to see the old 1-in-20 crash at least once with high odds, few enough to keep
#: the suite short (each run is a whole interpreter start).
FAILING_RUNS = 24
SUCCEEDING_RUNS = 12


def run_many(
    args: list[str], env: dict[str, str], times: int, cwd: Path
) -> list[tuple[int, str, str]]:
    def once(_: int) -> tuple[int, str, str]:
        done = subprocess.run(
            [str(AMITY), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
        )
        return done.returncode, done.stdout, done.stderr

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(once, range(times)))


def base_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "100"}


@pytest.mark.slow
def test_failing_status_exits_2_every_time(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    env = {**base_env(tmp_path), "TEMPORAL_ADDRESS": address}
    results = run_many(["status", "partnership-x"], env, FAILING_RUNS, tmp_path)
    codes = [code for code, _, _ in results]
    assert codes == [2] * FAILING_RUNS, (
        f"exit codes {sorted(set(codes))}: {results[codes.index(max(codes))]}"
    )
    for _, stdout, stderr in results:
        assert stdout == ""
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        assert f"cannot reach Temporal at {address}" in lines[0]
        assert "make up" in lines[0] and "TEMPORAL_ADDRESS" in lines[0]


@pytest.mark.slow
def test_succeeding_command_exits_0_every_time(dev_server: DevServer, tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "TEMPORAL_ADDRESS": dev_server.address}
    results = run_many(["list", "--json", "--limit", "1"], env, SUCCEEDING_RUNS, tmp_path)
    codes = [code for code, _, _ in results]
    assert codes == [0] * SUCCEEDING_RUNS, (
        f"exit codes {sorted(set(codes))}: {results[codes.index(max(codes))]}"
    )
    for _, stdout, _ in results:
        assert stdout.lstrip().startswith("[")  # the whole answer was flushed before the exit


def test_exit_codes_of_the_contract(tmp_path: Path) -> None:
    """0 for --version and help, 2 for a usage mistake, through the real script."""
    env = base_env(tmp_path)
    for args, code in ((["--version"], 0), (["--help"], 0), (["nosuch"], 2), (["status"], 2)):
        done = subprocess.run(
            [str(AMITY), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == code, (args, done.returncode, done.stderr)
