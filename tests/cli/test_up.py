"""`amity up` and `amity demo` as real processes: start, run the story twice, Ctrl-C, nothing left.

Also the one-line errors that only a real process shows: a taken port, a usage error.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from amity.cli import main
from runtime.devserver import free_port
from tests.ports import distinct_free_ports

AMITY = str(Path(sys.executable).parent / "amity")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any Amity/Temporal setting of the caller's, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMITY_", "TEMPORAL_"))}
    return {**env, "COLUMNS": "160", **extra}


def children(pid: int) -> list[int]:
    """Direct children of `pid`, read from /proc (no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_for_ui(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"amity up exited with {process.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the Web UI on port {port} did not answer within {timeout}s")


@dataclass
class Up:
    """A running `amity up` process, its ports and its server's process groups."""

    process: subprocess.Popen[bytes]
    port: int
    ui_port: int
    servers: list[int]


@contextmanager
def amity_up(
    data_dir: Path,
    stdout: Any,
    stderr: Any,
    cwd: Path | None = None,
    *,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    http_api: bool = True,
    stop: signal.Signals | None = None,
) -> Iterator[Up]:
    """`amity up` on free ports in its own process group (like a shell job: a signal goes to
    it alone), its UI answering; afterwards it gets `stop` (killed if it does not end, or at
    once without one) and whatever is left of its servers is killed."""
    port, ui_port, http_port = distinct_free_ports(3)
    args = ["up", "--port", str(port), "--ui-port", str(ui_port), *extra]
    if http_api:
        args += ["--http-port", str(http_port)]
    process = subprocess.Popen(
        [AMITY, *args, "--data-dir", str(data_dir)],
        stdout=stdout,
        stderr=stderr,
        env=clean_env(**(env or {})),
        cwd=cwd,
        start_new_session=True,
    )
    up = Up(process, port, ui_port, [])
    try:
        wait_for_ui(ui_port, process)
        up.servers = children(process.pid)
        yield up
    finally:
        if process.poll() is None:
            if stop is not None:
                process.send_signal(stop)
            try:
                process.wait(timeout=30 if stop is not None else 0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for server in up.servers:
            if not group_is_gone(server):
                os.killpg(server, signal.SIGKILL)


@pytest.mark.slow
def test_up_demo_twice_then_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    log = tmp_path / "up.out"
    with open(log, "wb") as output, amity_up(data_dir, output, subprocess.STDOUT, tmp_path) as up:
        assert up.servers, "amity up has no child process"
        assert (data_dir / "temporal.db").exists()

        demo_env = clean_env(
            TEMPORAL_ADDRESS=f"127.0.0.1:{up.port}",
            AMITY_EVENT_STORE_URL=f"sqlite:///{data_dir / 'events.db'}",
        )
        first = subprocess.run(
            [AMITY, "demo"], env=demo_env, cwd=tmp_path, capture_output=True, timeout=120
        )
        assert first.returncode == 0, first.stderr.decode()
        out = first.stdout.decode()
        assert "partnership-mianyang-cupertino: 11 events" in out
        assert "memorandum_signed" in out and "exchange_recorded" in out
        assert "Mianyang (CN) ↔ Cupertino (US)" in out
        assert b"Traceback" not in first.stderr

        second = subprocess.run(
            [AMITY, "demo"], env=demo_env, cwd=tmp_path, capture_output=True, timeout=120
        )
        assert second.returncode == 0, second.stderr.decode()
        assert "uses partnership-mianyang-cupertino-2" in second.stdout.decode()
        assert "partnership-mianyang-cupertino-2: 11 events" in second.stdout.decode()
        assert (data_dir / "events.db").exists()

        up.process.send_signal(signal.SIGINT)
        assert up.process.wait(timeout=30) == 0, log.read_text()
        banner = log.read_text()
        assert f"http://127.0.0.1:{up.ui_port}" in banner
        assert f"127.0.0.1:{up.port}" in banner
        assert f"sqlite:///{data_dir / 'events.db'}" in banner
        assert "Traceback" not in banner
        assert group_is_gone(up.process.pid)
        for server in up.servers:
            assert group_is_gone(server), f"process group {server} survived amity up"
            assert not Path(f"/proc/{server}").exists()


def test_sigterm_stops_up_and_its_server(tmp_path: Path) -> None:
    with amity_up(tmp_path, subprocess.DEVNULL, subprocess.PIPE) as up:
        up.process.terminate()
        assert up.process.wait(timeout=30) == 0
        assert up.process.stderr is not None and up.process.stderr.read() == b""
        assert up.servers and all(group_is_gone(server) for server in up.servers)


def temporal_children() -> set[int]:
    return {
        child
        for child in children(os.getpid())
        if "temporal" in Path(f"/proc/{child}/cmdline").read_text(errors="replace")
    }


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`amity ARGS` in this process, through the console script's own entry point."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def test_a_taken_port_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = temporal_children()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for args in (["--port", str(port), "--ui-port", str(free_port())],
                     ["--port", str(free_port()), "--ui-port", str(port)]):  # fmt: skip
            code, _, err = run_main(["up", *args, "--data-dir", str(tmp_path)], capsys)
            assert code == 2
            lines = err.strip().splitlines()
            assert len(lines) == 1 and f"port {port} is already in use" in lines[0], lines
        assert temporal_children() == before, "a refused `amity up` left a server"


def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["send", "partnership-x"], ["no-such-command"], ["list", "--stage", "nowhere"],
                 ["up", "--port", "0"], ["status"]):  # fmt: skip
        code, _, err = run_main(args, capsys)
        assert code == 2, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("amity: "), lines
        assert "Traceback" not in err
    code, out, _ = run_main(["send", "--help"], capsys)
    assert code == 0 and "--signal" in out
    code, out, _ = run_main([], capsys)
    assert code == 0 and "amity up" in out


def test_usage_errors_are_one_line_under_clirunner_too() -> None:
    """Integrations and the fault suite drive the Typer app itself (CliRunner), not the
    console script: a COMMAND that looks like an option is still one line, exit 2."""
    from typer.testing import CliRunner

    from amity.cli import app

    for args in (["send", "partnership-x", "-\U000410a5", "--data", "{}"],
                 ["send", "partnership-x", "--bogus"], ["audit", "history"]):  # fmt: skip
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("amity: "), lines
        assert "(see amity " in lines[0] and "Usage:" not in result.stderr
