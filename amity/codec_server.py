"""Temporal's remote codec endpoint for the Web UI: POST .../encode and .../decode.

Whoever reaches this endpoint with the token reads every payload in clear, so it refuses
everything else before it reads a body:

- **Host**: only the names it was told it is reached by (default 127.0.0.1, localhost and
  [::1] on its port), so a DNS-rebinding page cannot talk to it under its own name;
- **Origin**: a browser request from any origin but the configured UI origins is refused
  (403), and CORS answers name that one origin, never `*`;
- **token** (AMITY_CODEC_TOKEN): `Authorization: Bearer <token>` (scripts; the UI sends its
  own OIDC access token there, and only to an https endpoint), or the token as the first
  path segment, `http://127.0.0.1:8081/<token>` being the endpoint to give the UI (UI 2.54
  calls `<endpoint>/decode?preserveStorageRefs=true` and can send no header of ours);
  compared in constant time; missing or wrong: 401;
- **body**: `Content-Type: application/json` only (so a cross-site page cannot send a
  "simple" request that skips the CORS preflight), a Content-Length is required and at most
  `max_body` bytes, else 411/413 without reading it;
- **time**: the request line, headers and body must arrive within `read_timeout` seconds in
  all (a client trickling bytes is cut off), one request per connection, and at most
  `max_connections` connections at once (more are closed at once).

Python's http.server with these checks is used rather than a new web framework: the
endpoint has two routes, and every limit above is a few explicit lines tested against a
real socket (tests/security/test_codec_server.py).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hmac
import json
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from runtime.codec import AesGcmCodec, CodecKeyError

#: The Web UI's origin as `amity up` prints it, and its other spelling.
DEFAULT_ORIGINS = ("http://127.0.0.1:8233", "http://localhost:8233")
DEFAULT_PORT = 8081
#: Temporal refuses a gRPC message over 4 MiB; its JSON (base64) is about 4/3 of that.
DEFAULT_MAX_BODY = 6 * 1024 * 1024
DEFAULT_READ_TIMEOUT = 10.0
DEFAULT_MAX_CONNECTIONS = 32
#: A token goes into a URL path: URL-safe characters only, and long enough not to guess.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,256}")
ALLOWED_HEADERS = "Content-Type, X-Namespace, Authorization, Authorization-Extras"


class CodecConfigError(ValueError):
    """The codec server cannot start safely; the message is one line."""


def check_token(token: str) -> str:
    if not TOKEN_PATTERN.fullmatch(token):
        raise CodecConfigError(
            "AMITY_CODEC_TOKEN must be 32 to 256 characters of A-Z a-z 0-9 _ -"
            " (make one: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


def check_origin(origin: str) -> str:
    parts = urlsplit(origin)
    if origin == "*" or "*" in origin:
        raise CodecConfigError("--origin '*' is refused: name the Web UI's origin")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise CodecConfigError(f"--origin {origin!r} must be scheme://host[:port]")
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class Policy:
    """Who may use the endpoint, and how much of its time they may take."""

    token: str
    origins: tuple[str, ...] = DEFAULT_ORIGINS
    hosts: tuple[str, ...] = ()
    max_body: int = DEFAULT_MAX_BODY
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    _token_bytes: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_token(self.token)
        object.__setattr__(self, "origins", tuple(check_origin(o) for o in self.origins))
        object.__setattr__(self, "_token_bytes", self.token.encode())

    def __repr__(self) -> str:
        return f"Policy(origins={self.origins}, hosts={self.hosts}, max_body={self.max_body})"

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token_bytes)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Bind exactly the address given; never fall back to every interface.
    allow_reuse_address = False
    policy: Policy
    slots: threading.BoundedSemaphore

    def process_request(self, request: Any, client_address: Any) -> None:
        # A flood of idle connections must not grow threads without bound.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "amity-codec"
    sys_version = ""
    codec: AesGcmCodec

    # -- the whole request within the deadline --------------------------------------------

    def setup(self) -> None:
        super().setup()
        policy = self.server.policy
        self.connection.settimeout(policy.read_timeout)
        self._deadline = threading.Timer(policy.read_timeout, self._cut_off)
        self._deadline.daemon = True
        self._deadline.start()

    def _cut_off(self) -> None:
        """The client took too long to send its request: close the socket under it."""
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_done(self) -> None:
        self._deadline.cancel()

    def finish(self) -> None:
        self._deadline.cancel()
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        # The client went away or was cut off: nothing to answer.
        with contextlib.suppress(OSError, ValueError):
            super().handle()

    # -- checks, in the order that reads the least ---------------------------------------

    def _origin_allowed(self) -> bool | None:
        """True for an allowed browser origin, None when no Origin header came (a script)."""
        origin = self.headers.get("Origin")
        if origin is None:
            return None
        return origin.lower() in self.server.policy.origins

    def _host_allowed(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        return host in self.server.policy.hosts

    def _route(self) -> tuple[str | None, str | None]:
        """(token from the path or None, 'encode'/'decode' or None). Only the last path
        segment names the operation (the codec protocol); the query string is ignored."""
        segments = [s for s in urlsplit(self.path).path.split("/") if s]
        if not segments or segments[-1] not in ("encode", "decode"):
            return None, None
        token = segments[0] if len(segments) == 2 else None
        return (token, segments[-1]) if len(segments) <= 2 else (None, None)

    def _authorised(self, path_token: str | None) -> bool:
        policy = self.server.policy
        ok = False
        if path_token is not None:
            ok = policy.token_matches(path_token)
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            ok = policy.token_matches(value.strip()) or ok
        return ok

    def _common_checks(self) -> bool:
        if not self._host_allowed():
            self._reply(421, {"error": "this codec server is not reached by that Host"})
            return False
        if self._origin_allowed() is False:
            self._reply(403, {"error": "origin not allowed"})
            return False
        return True

    def do_OPTIONS(self) -> None:
        self._read_done()
        if not self._common_checks():
            return
        if self._origin_allowed() is None or self._route()[1] is None:
            self._reply(404, {"error": "no such endpoint"})
            return
        self._reply(204, None)

    def do_POST(self) -> None:
        if not self._common_checks():
            return
        token, operation = self._route()
        if operation is None:
            self._reply(404, {"error": "POST <endpoint>/encode or <endpoint>/decode"})
            return
        if not self._authorised(token):
            self._reply(401, {"error": "token required (AMITY_CODEC_TOKEN)"})
            return
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self._reply(415, {"error": "Content-Type must be application/json"})
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._reply(411, {"error": "a Content-Length is required"})
            return
        length_header = self.headers.get("Content-Length")
        try:
            length = int(length_header) if length_header is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self._reply(411, {"error": "a Content-Length is required"})
            return
        if length > self.server.policy.max_body:
            self._reply(413, {"error": f"body over {self.server.policy.max_body} bytes"})
            return
        body = self.rfile.read(length)
        self._read_done()
        if len(body) != length:
            return  # cut off or gone
        try:
            payloads = json_format.Parse(body, Payloads())
            convert = self.codec.encode_one if operation == "encode" else self.codec.decode_one
            out = Payloads(payloads=[convert(p) for p in payloads.payloads])
        except (CodecKeyError, json_format.ParseError, ValueError) as error:
            message = str(error).splitlines()[0] if str(error) else "bad request"
            self._reply(400, {"error": message})
            return
        self._reply(200, json_format.MessageToJson(out).encode())

    def do_GET(self) -> None:
        self._read_done()
        if self._common_checks():
            self._reply(405, {"error": "POST only"})

    do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815

    # -- answers --------------------------------------------------------------------------

    def _reply(self, status: int, body: dict[str, str] | bytes | None) -> None:
        self._read_done()
        data = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        self.close_connection = True
        self.send_response(status)
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() in self.server.policy.origins:
            # The one configured origin, never `*`: credentials are allowed for it only.
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
            self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Vary", "Origin")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="amity-codec"')
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return  # a request line can carry the token: never logged


def default_hosts(host: str, port: int) -> tuple[str, ...]:
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("0.0.0.0", "::", ""):  # noqa: S104 - a name to accept, not a bind
        names.add(f"[{host}]" if ":" in host else host)
    return tuple(sorted(f"{name}:{port}".lower() for name in names))


class CodecServer:
    """The endpoint on a real socket, in a background thread (tests) or the foreground."""

    def __init__(
        self,
        codec: AesGcmCodec,
        token: str,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        origins: tuple[str, ...] = DEFAULT_ORIGINS,
        hosts: tuple[str, ...] = (),
        max_body: int = DEFAULT_MAX_BODY,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        # Display only: a payload that was never encrypted is shown as it is.
        self.codec = codec.with_plaintext("accept")
        handler = type("CodecHandler", (_Handler,), {"codec": self.codec})
        # Checked before binding: a bad token or origin never opens a port.
        policy = Policy(
            token=token,
            origins=origins,
            max_body=max_body,
            read_timeout=read_timeout,
            max_connections=max_connections,
        )
        self.httpd = _Server((host, port), handler)
        self.port = int(self.httpd.server_address[1])
        # The bound port is known only now (port 0): the Host names follow it.
        self.policy = dataclasses.replace(
            policy, hosts=tuple(h.lower() for h in hosts) + default_hosts(host, self.port)
        )
        self.httpd.policy = self.policy
        self.httpd.slots = threading.BoundedSemaphore(max_connections)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}"

    def start(self) -> CodecServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="amity codec-server", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--origin", action="append", help="allowed Web UI origin (repeatable)")
    parser.add_argument(
        "--allowed-host", action="append", default=[], help="extra Host header value (host:port)"
    )
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY)
    parser.add_argument("--read-timeout", type=float, default=DEFAULT_READ_TIMEOUT)
    args = parser.parse_args(argv)
    from runtime.settings import get_settings

    settings = get_settings()
    try:
        if settings.codec_token is None:
            raise CodecConfigError(
                "set AMITY_CODEC_TOKEN: the codec server decrypts for anyone holding it"
            )
        key = settings.payload_key.get_secret_value() if settings.payload_key else ""
        codec = AesGcmCodec.from_base64(key)
        server = CodecServer(
            codec,
            settings.codec_token.get_secret_value(),
            args.port,
            args.host,
            tuple(args.origin or DEFAULT_ORIGINS),
            tuple(args.allowed_host),
            args.max_body,
            args.read_timeout,
        )
    except (CodecKeyError, CodecConfigError, OSError) as error:
        print(f"amity codec-server: {error}", file=sys.stderr)
        return 2
    print(
        f"codec server on {server.url} (key {codec.key_id}); give the Web UI the endpoint"
        f" {server.url}/<AMITY_CODEC_TOKEN>; allowed origins: {', '.join(server.policy.origins)}",
        flush=True,
    )
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
