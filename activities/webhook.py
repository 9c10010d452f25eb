"""The outbound reminder webhook: where it may point, how a request is signed, one POST.

- Where: `https://` anywhere, `http://` only to a loopback address (a receiver on the same
  machine); anything else is a configuration error when the worker starts, not a reminder
  lost in transit. A redirect is never followed (the body and its signature would not go
  with it, and the target could be anywhere): a 3xx is a failed delivery.
- How signed: the Standard Webhooks scheme (standardwebhooks.com): headers `webhook-id`,
  `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
  "id.timestamp.body">`, keyed by the bytes of `AMITY_WEBHOOK_SECRET` (`whsec_<base64>`).
- How long: one deadline for the whole exchange (connect, send, the answer's status line),
  so a receiver that trickles bytes is cut off there; httpx's own timeouts apply per read.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import hmac
import ipaddress
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from runtime.errors import UserError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
#: A shorter key makes HMAC-SHA256 guessable; the spec's own secrets are 24-64 bytes.
MIN_SECRET_BYTES = 16


class WebhookConfigError(UserError, ValueError):
    """AMITY_WEBHOOK_URL / AMITY_WEBHOOK_SECRET cannot be used; one line says why."""


class WebhookTimeout(Exception):  # noqa: N818 - reads as what happened
    """The receiver did not answer within the delivery's deadline."""


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's roots, SSL_CERT_FILE honoured), made once:
    a context costs tens of milliseconds, too much to pay on every delivery."""
    return httpx.create_ssl_context()


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (no DNS: a name could resolve anywhere)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """The URL if reminders may be sent there; WebhookConfigError (never echoing the URL,
    which may hold a token) otherwise."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise WebhookConfigError("AMITY_WEBHOOK_URL is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookConfigError("AMITY_WEBHOOK_URL must be an https:// URL")
    if parts.scheme == "http" and not is_loopback(host):
        raise WebhookConfigError(
            f"AMITY_WEBHOOK_URL must use https:// (http:// is allowed only to loopback, not {host})"
        )
    return url.strip()


def parse_secret(text: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret."""
    encoded = text.strip()
    if not encoded.startswith(SECRET_PREFIX):
        raise WebhookConfigError(
            "AMITY_WEBHOOK_SECRET must look like whsec_<base64 of 16-64 random bytes>"
        )
    try:
        key = base64.b64decode(encoded[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < MIN_SECRET_BYTES:
        raise WebhookConfigError(
            f"AMITY_WEBHOOK_SECRET must be whsec_ and base64 of at least {MIN_SECRET_BYTES}"
            " random bytes"
        )
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks, version 1)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Webhook:
    """Where reminders go, the key that signs them and the deadline of one delivery."""

    url: str = field(repr=False)
    key: bytes = field(repr=False)
    deadline: float = 10.0

    @classmethod
    def configure(
        cls, url: str | None, secret: str | None, deadline: float = 10.0
    ) -> Webhook | None:
        """None without a URL; WebhookConfigError for an unusable URL or secret."""
        if not url or not url.strip():
            return None
        checked = check_url(url)
        if not secret or not secret.strip():
            raise WebhookConfigError(
                "AMITY_WEBHOOK_URL is set but AMITY_WEBHOOK_SECRET is not: every reminder is"
                " signed (whsec_<base64>)"
            )
        return cls(url=checked, key=parse_secret(secret), deadline=deadline)

    @property
    def where(self) -> str:
        """`scheme://host[:port]`: enough to say where reminders go, without the path or
        query (they often hold a token)."""
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"

    def headers(self, message_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
        timestamp = int(time.time() if now is None else now)
        return {
            "Content-Type": "application/json",
            "User-Agent": "amity-reminders",
            "Idempotency-Key": message_id,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.key, message_id, timestamp, body),
        }

    async def post(self, message_id: str, body: bytes, deadline: float | None = None) -> int:
        """POST once; the answer's status code. WebhookTimeout past the deadline,
        httpx.TransportError when the receiver cannot be reached."""
        limit = self.deadline if deadline is None else min(deadline, self.deadline)
        async with httpx.AsyncClient(
            follow_redirects=False, timeout=httpx.Timeout(limit), verify=tls_context()
        ) as client:
            request = client.build_request(
                "POST", self.url, content=body, headers=self.headers(message_id, body)
            )
            try:
                async with asyncio.timeout(limit):
                    # The status line and headers are all a delivery needs: the body of the
                    # answer is never read, so a receiver cannot make us hold it either.
                    response = await client.send(request, stream=True)
                    await response.aclose()
            except TimeoutError:
                raise WebhookTimeout(f"no answer within {limit:.1f}s") from None
            except httpx.TimeoutException:
                raise WebhookTimeout(f"no answer within {limit:.1f}s") from None
            return response.status_code
