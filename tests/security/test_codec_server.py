"""The codec server decrypts only for the token holder, from the UI's origin, by its own name,
in bounded time and memory: real sockets, real HTTP requests, a real `amity codec-server`."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from amity.codec_server import CodecConfigError, CodecServer
from amity.codec_server import main as codec_server_main
from runtime.codec import AesGcmCodec
from runtime.devserver import free_port
from runtime.settings import get_settings

TOKEN = "t0ken-for-the-codec-server-tests_0123456789"
UI = "http://127.0.0.1:8233"
KEY = os.urandom(32)
AMITY = Path(sys.executable).parent / "amity"


@pytest.fixture
def server() -> Iterator[CodecServer]:
    started = CodecServer(
        AesGcmCodec(KEY), TOKEN, port=0, max_body=64 * 1024, read_timeout=1.0
    ).start()
    yield started
    started.stop()


def sealed_body(text: str = "Jing Dazhong") -> bytes:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())
    sealed = AesGcmCodec(KEY).encode_one(plain)
    return json_format.MessageToJson(Payloads(payloads=[sealed])).encode()


def request(
    server: CodecServer,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    sent = {"Content-Type": "application/json", "X-Namespace": "default"}
    sent.update(headers or {})
    connection.request(method, path, body=body, headers=sent)
    reply = connection.getresponse()
    result = reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    connection.close()
    return result


def decoded_text(body: bytes) -> str:
    payload = json_format.Parse(body, Payloads()).payloads[0]
    return str(json.loads(payload.data))


def test_the_token_is_required_and_checked(server: CodecServer) -> None:
    body = sealed_body()
    status, headers, reply = request(server, "/decode", body)
    assert status == 401 and b"Jing" not in reply
    assert headers["www-authenticate"].startswith("Bearer")
    status, _, reply = request(server, "/decode", body, {"Authorization": "Bearer wrong" * 4})
    assert status == 401 and b"Jing" not in reply
    status, _, _ = request(server, f"/{TOKEN[:-1]}x/decode", body)
    assert status == 401
    status, _, _ = request(server, "/decode", body, {"Authorization": f"Basic {TOKEN}"})
    assert status == 401
    # the header (scripts) and the path segment (the Web UI's endpoint) both work
    status, _, reply = request(server, "/decode", body, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and decoded_text(reply) == "Jing Dazhong"
    # UI 2.54 calls <endpoint>/decode?preserveStorageRefs=true
    status, _, reply = request(server, f"/{TOKEN}/decode?preserveStorageRefs=true", body)
    assert status == 200 and decoded_text(reply) == "Jing Dazhong"


def test_only_the_configured_origin_gets_cors_and_never_a_wildcard(server: CodecServer) -> None:
    body, path = sealed_body(), f"/{TOKEN}/decode?preserveStorageRefs=true"
    for stranger in ("http://evil.test", "null", "*", "http://127.0.0.1:8234"):
        status, headers, reply = request(server, path, body, {"Origin": stranger})
        assert status == 403 and b"Jing" not in reply, stranger
        assert "access-control-allow-origin" not in headers
        status, headers, _ = request(
            server,
            path,
            None,
            {"Origin": stranger, "Access-Control-Request-Method": "POST"},
            method="OPTIONS",
        )
        assert status == 403 and "access-control-allow-origin" not in headers
    # the UI's origin: a preflight without credentials passes, and the answer names it
    status, headers, _ = request(
        server,
        path,
        None,
        {
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
        method="OPTIONS",
    )
    assert status == 204
    assert headers["access-control-allow-origin"] == UI
    assert "X-Namespace" in headers["access-control-allow-headers"]
    status, headers, reply = request(server, path, body, {"Origin": UI})
    assert status == 200 and decoded_text(reply) == "Jing Dazhong"
    assert headers["access-control-allow-origin"] == UI
    assert headers["access-control-allow-credentials"] == "true"
    with pytest.raises(CodecConfigError, match=r"\*"):
        CodecServer(AesGcmCodec(KEY), TOKEN, port=0, origins=("*",))


def test_a_simple_cross_site_request_is_refused(server: CodecServer) -> None:
    """text/plain skips the browser's preflight: it must not reach the codec."""
    status, _, reply = request(
        server, f"/{TOKEN}/decode", sealed_body(), {"Content-Type": "text/plain"}
    )
    assert status == 415 and b"Jing" not in reply


def test_a_wrong_host_is_refused(server: CodecServer) -> None:
    """DNS rebinding: the browser sends the attacker's name as Host."""
    for host in ("evil.test", f"evil.test:{server.port}", "127.0.0.1:1"):
        status, _, reply = request(
            server, f"/{TOKEN}/decode", sealed_body(), {"Host": host, "Origin": UI}
        )
        assert status == 421 and b"Jing" not in reply, host


def test_an_oversized_body_is_refused_before_it_is_read(server: CodecServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(
            (
                f"POST /{TOKEN}/decode HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {1024 * 1024 * 1024}\r\n\r\n"
            ).encode()
        )
        # not one byte of the gigabyte is sent: the answer comes anyway
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.0 413") or answer.startswith(b"HTTP/1.1 413"), answer
    # and without a Content-Length, nothing is read either
    status, _, _ = request(
        server, f"/{TOKEN}/decode", None, {"Transfer-Encoding": "chunked"}, method="POST"
    )
    assert status == 411


def test_a_client_that_trickles_its_request_is_cut_off(server: CodecServer) -> None:
    """Slowloris: one byte at a time, each well within any per-read timeout; the whole
    request has a deadline (1 s here), so the server closes the socket under it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(f"POST /{TOKEN}/decode HTTP/1.1\r\n".encode())
        closed = False
        for _ in range(100):  # up to 20 s of trickling; the deadline is 1 s
            try:
                raw.sendall(b"X")
                raw.settimeout(0.2)
                try:
                    if raw.recv(1024) == b"":
                        closed = True
                        break
                except TimeoutError:
                    continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed, "the server still waits for a request trickled byte by byte"
    # and it still serves others
    status, _, _ = request(server, "/decode", sealed_body(), {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200


def test_defaults_listen_on_loopback_and_refuse_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    local = CodecServer(AesGcmCodec(KEY), TOKEN, port=0)
    try:
        assert local.httpd.server_address[0] == "127.0.0.1"
    finally:
        local.httpd.server_close()

    key = base64.b64encode(KEY).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMITY_")}
    env["AMITY_PAYLOAD_KEY"] = key
    for name in [n for n in os.environ if n.startswith("AMITY_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AMITY_PAYLOAD_KEY", key)
    for token, reason in ((None, "set AMITY_CODEC_TOKEN"), ("short", "32 to 256")):
        if token:
            monkeypatch.setenv("AMITY_CODEC_TOKEN", token)
        get_settings.cache_clear()
        assert codec_server_main(["--port", str(free_port())]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and reason in err and key not in err, err
    monkeypatch.undo()
    get_settings.cache_clear()

    port = free_port()
    process = subprocess.Popen(
        [str(AMITY), "codec-server", "--port", str(port)],
        env={**env, "AMITY_CODEC_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert f"127.0.0.1:{port}" in banner and TOKEN not in banner and key not in banner
        assert listening_addresses(port) == {"127.0.0.1"}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request(
            "POST",
            f"/{TOKEN}/decode?preserveStorageRefs=true",
            body=sealed_body(),
            headers={"Content-Type": "application/json", "Origin": UI},
        )
        reply = connection.getresponse()
        assert reply.status == 200 and decoded_text(reply.read()) == "Jing Dazhong"
        assert reply.getheader("Access-Control-Allow-Origin") == UI
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        assert TOKEN not in process.stderr.read()


def listening_addresses(port: int, wait: float = 10.0) -> set[str]:
    """The IPv4/IPv6 addresses listening on `port`, from /proc/net/tcp{,6} (state 0A)."""
    deadline = time.monotonic() + wait
    while True:
        found: set[str] = set()
        for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                address, port_hex = fields[1].split(":")
                if fields[3] == "0A" and int(port_hex, 16) == port:
                    found.add(_address(address, width))
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _address(hex_address: str, width: int) -> str:
    raw = bytes.fromhex(hex_address)
    if width == 8:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def test_idle_connections_beyond_the_cap_are_closed_at_once() -> None:
    """Many idle sockets cannot pin a thread each: beyond the cap a connection is closed as
    it arrives; the slots come back when the idle clients leave."""
    capped = CodecServer(
        AesGcmCodec(KEY), TOKEN, port=0, read_timeout=60.0, max_connections=2
    ).start()
    try:
        idle = [socket.create_connection(("127.0.0.1", capped.port), timeout=5) for _ in range(2)]
        # the kernel hands connections to accept() in order: the third comes after both
        with socket.create_connection(("127.0.0.1", capped.port), timeout=5) as third:
            third.settimeout(5)
            try:
                closed = third.recv(1) == b""
            except ConnectionResetError:
                closed = True
            assert closed, "a connection beyond the cap was served"
        for held in idle:
            held.close()
        for _ in range(100):  # the slots are released as the handlers see the clients leave
            try:
                status, _, _ = request(
                    capped, "/decode", sealed_body(), {"Authorization": f"Bearer {TOKEN}"}
                )
            except (ConnectionError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            assert status == 200
            break
        else:
            raise AssertionError("the slots were not released")
    finally:
        capped.stop()
