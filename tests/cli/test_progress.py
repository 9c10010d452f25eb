"""Long operations show a progress bar on stderr to a person at a terminal, and nothing to a
script: not when stderr is a pipe, not under --json.

The console script runs with its stderr on a real pseudo-terminal (or a pipe), its stdout on
a pipe, against a real SQLite store the worker's code created.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.settings import open_store

AMITY = Path(sys.executable).parent / "amity"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    open_store(url).close()  # an Amity store, as the worker leaves it (no events yet)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "AMITY_EVENT_STORE_URL": url,
        "AMITY_AUDIT_KEY_FILE": str(tmp_path / "audit-key.pem"),
        "AMITY_AUDIT_WITNESS": "off",
    }


def on_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal: (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(AMITY), *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=slave
        )
        os.close(slave)
        shown = bytearray()
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.stdout.read() if process.stdout else b""
        code = process.wait(timeout=60)
    finally:
        os.close(master)
    return code, stdout.decode(), shown.decode(errors="replace")


def on_pipe(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run(
        [str(AMITY), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    return done.returncode, done.stdout, done.stderr


CASES = [
    (["audit", "stats"], "catching up the read models"),
    (["audit", "checkpoint"], "checking the log"),
    (["audit", "replay", "--projections"], "rebuilding read models"),
]


@pytest.mark.parametrize(("args", "label"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_a_terminal_sees_the_bar_and_a_pipe_does_not(
    args: list[str], label: str, env: dict[str, str], tmp_path: Path
) -> None:
    code, stdout, shown = on_terminal(args, env, tmp_path)
    assert code == 0, shown
    assert label in shown, shown
    assert label not in stdout  # the bar is on stderr only: stdout stays the command's output

    code, stdout, stderr = on_pipe(args, env, tmp_path)
    assert code == 0, stderr
    assert label not in stderr + stdout
    assert "\x1b[" not in stderr  # no cursor movement or colour in a log file


def test_json_is_quiet_even_on_a_terminal(env: dict[str, str], tmp_path: Path) -> None:
    code, stdout, shown = on_terminal(["audit", "stats", "--json"], env, tmp_path)
    assert code == 0, shown
    assert "catching up" not in shown
    assert stdout.lstrip().startswith("{")
