"""What the secrets, webhook and input attack tests share: a real webhook receiver that
checks Standard Webhooks signatures itself, and `amity up` / `amity worker` as processes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.cli.test_up import Up, amity_up

#: A Standard Webhooks secret (whsec_ + base64 of 32 bytes) and its key bytes.
KEY = b"hardening-webhook-key-32-bytes!!"
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def expected_signature(key: bytes, headers: dict[str, str], body: bytes) -> str:
    """The spec's v1 signature, computed here independently of Amity's code."""
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode()
    digest = hmac.new(key, signed + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A threaded HTTP server; `answers` are the statuses it gives to POSTs in turn (the
    last one repeats); "trickle" sends its status line one byte every 0.2 s, forever."""

    answers: list[int | str]
    key: bytes = KEY
    posts: list[Post] = field(default_factory=list)
    other_requests: list[str] = field(default_factory=list)
    trickle_cut: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                signature_ok = all(
                    k in headers for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ) and hmac.compare_digest(
                    headers["webhook-signature"], expected_signature(receiver.key, headers, body)
                )
                if self.path != "/hook":
                    receiver.other_requests.append(f"POST {self.path}")
                    self._answer(200)
                    return
                receiver.posts.append(Post(self.path, headers, body, signature_ok))
                index = min(len(receiver.posts), len(receiver.answers)) - 1
                answer = receiver.answers[index]
                if answer == "trickle":
                    self._trickle()
                    return
                self._answer(int(answer))

            def do_GET(self) -> None:
                receiver.other_requests.append(f"GET {self.path}")
                self._answer(200)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _trickle(self) -> None:
                try:
                    for byte in b"HTTP/1.1 200 OK\r\n" * 1000:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    receiver.trickle_cut.set()  # the sender hung up

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met in {timeout}s: {self.posts}")
            time.sleep(0.05)


@contextmanager
def receiving(*answers: int | str) -> Iterator[Receiver]:
    receiver = Receiver(list(answers))
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@contextmanager
def amity_up_with(data_dir: Path, output: Path, cwd: Path, **env: str) -> Iterator[Up]:
    """`amity up` on free ports with `env` added, stdout and stderr into `output`; Ctrl-C
    (SIGINT) ends it, as a person would."""
    with (
        output.open("wb") as sink,
        amity_up(data_dir, sink, subprocess.STDOUT, cwd, env=env, stop=signal.SIGINT) as up,
    ):
        yield up


def listen_addresses(port: int) -> set[str]:
    """The local addresses of LISTEN sockets on `port`, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(decode_address(address))
    return found


def decode_address(hex_address: str) -> str:
    """/proc/net/tcp's little-endian hex address as text (IPv4 or IPv6)."""
    import ipaddress

    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def other_local_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses (`hostname -I`), if it has any."""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [a for a in out.stdout.split() if "." in a and not a.startswith("127.")]


def wait_for_text(
    path: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 60
) -> str:
    """The file's content once it holds `text` (the process must still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace") if path.exists() else ""
        if text in content:
            return content
        assert process.poll() is None, f"exited with {process.returncode}: {content}"
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path} within {timeout}s")
