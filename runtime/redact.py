"""Secrets never leave the process in clear: one way to show a URL without its password,
and a scrubber for any text (error lines, log records) that may quote a secret.

A store URL (`postgresql://user:password@host/db`) and a webhook URL (tokens in the path or
query) are secrets as a whole in `Settings`; whatever prints one prints `redact_url(url)`.
Library errors are not under our control (a driver may quote the connection string), so
every line Amity prints or logs also goes through `scrub` with the process's secret values.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, unquote, urlencode

MASK = "***"
#: Query parameters that carry credentials (libpq accepts `?password=`; webhooks `?token=`).
SECRET_PARAMS = re.compile(r"pass|secret|token|key|auth|sig|credential", re.IGNORECASE)
#: Shorter values are too common to scrub from arbitrary text without mangling it.
MIN_SCRUB_LENGTH = 4


def redact_url(url: str) -> str:
    """`scheme://user:***@host:port/path?password=***`: the URL with no credential in it.

    Everything before the last `@` of the authority is user information; an unencoded `/`
    or `@` inside a password therefore errs towards hiding more, never less.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    at = rest.rfind("@")
    if at != -1:
        user, colon, _password = rest[:at].partition(":")
        rest = f"{user}{':' + MASK if colon else ''}@{rest[at + 1 :]}"
    base, question, query = rest.partition("?")
    if question:
        query, hash_, fragment = query.partition("#")
        pairs = [
            (key, MASK if SECRET_PARAMS.search(key) else value)
            for key, value in parse_qsl(query, keep_blank_values=True)
        ]
        rest = f"{base}?{urlencode(pairs, safe='*')}{hash_}{fragment}"
    return f"{scheme}://{rest}"


def url_secrets(url: str) -> list[str]:
    """The credential values inside a URL (raw and percent-decoded), for `scrub`."""
    found: list[str] = []
    _scheme, sep, rest = url.partition("://")
    if not sep:
        return found
    at = rest.rfind("@")
    if at != -1:
        _user, colon, password = rest[:at].partition(":")
        if colon and password:
            found += [password, unquote(password), quote(unquote(password), safe="")]
    _base, _question, query = rest.partition("?")
    for key, value in parse_qsl(query.partition("#")[0], keep_blank_values=True):
        if SECRET_PARAMS.search(key) and value:
            found += [value, quote(value, safe="")]
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by `***` (longest first, so a secret that
    contains another is replaced whole)."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class ScrubSecrets(logging.Filter):
    """A handler filter: the formatted message and any traceback lose the process's secrets."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= MIN_SCRUB_LENGTH]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, scrub(formatted, self.secrets)
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        return True
