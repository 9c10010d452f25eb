"""Temporal's remote codec endpoint: POST /encode and /decode, with CORS for the Web UI.

Run it beside the UI (`amity codec-server --port 8081 --origin http://localhost:8233`, or
`python -m amity.codec_server`) and point the UI at it (dev server: `temporal server
start-dev --ui-codec-endpoint http://localhost:8081`; docker: TEMPORAL_CODEC_ENDPOINT).
The key comes from AMITY_PAYLOAD_KEY and never leaves this process; a request that does
not decode gets a one-line error, never the key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from amity.codec import AesGcmCodec, CodecKeyError

DEFAULT_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")


class CodecServer:
    def __init__(
        self,
        codec: AesGcmCodec,
        port: int = 8081,
        host: str = "127.0.0.1",
        origins: tuple[str, ...] = DEFAULT_ORIGINS,
    ) -> None:
        outer = self
        self.codec, self.origins = codec, origins

        class Handler(BaseHTTPRequestHandler):
            def _cors(self) -> None:
                origin = self.headers.get("Origin")
                if origin and ("*" in outer.origins or origin in outer.origins):
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Allow-Credentials", "true")
                    self.send_header("Vary", "Origin")
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                self.send_header(
                    "Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization"
                )

            def do_OPTIONS(self) -> None:
                self.send_response(200)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                path = self.path.rstrip("/").rsplit("/", 1)[-1]
                if path not in ("encode", "decode"):
                    self._reply(404, b'{"error": "POST /encode or /decode"}')
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                    payloads = json_format.Parse(self.rfile.read(length), Payloads())
                    convert = outer.codec.encode_one if path == "encode" else outer.codec.decode_one
                    out = Payloads(payloads=[convert(p) for p in payloads.payloads])
                except (CodecKeyError, json_format.ParseError, ValueError) as error:
                    message = str(error).splitlines()[0] if str(error) else "bad request"
                    self._reply(400, json.dumps({"error": message}).encode())
                    return
                self._reply(200, json_format.MessageToJson(out).encode())

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.httpd.server_address[0]}:{self.port}"

    def start(self) -> CodecServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amity.codec_server", description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--origin", action="append", help="allowed UI origin (repeatable)")
    args = parser.parse_args(argv)
    try:
        codec = AesGcmCodec.from_base64(os.environ.get("AMITY_PAYLOAD_KEY") or "")
        server = CodecServer(codec, args.port, args.host, tuple(args.origin or DEFAULT_ORIGINS))
    except (CodecKeyError, OSError) as error:
        print(f"amity codec-server: {error}", file=sys.stderr)
        return 2
    print(f"codec server on {server.url} (key {codec.key_id})", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
