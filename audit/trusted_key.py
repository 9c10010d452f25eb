"""The verifier key an auditor trusts, from outside anything being checked.

A bundle carries the key that signed it, but whoever forges a bundle can put their own key
there, so that copy is never believed. The trusted key comes from `--public-key` or, failing
that, `AMITY_AUDIT_PUBLIC_KEY`; either holds a C2SP verifier key (`name+id+base64key`) or the
path of a file holding one.
"""

from __future__ import annotations

from pathlib import Path

from audit.verify import TrustedKey
from tlog import note

PUBLIC_KEY_ENV = "AMITY_AUDIT_PUBLIC_KEY"
#: A verifier key is one short line; a key "file" longer than this is something else.
MAX_KEY_FILE = 4096


class TrustedKeyError(ValueError):
    """The configured key cannot be used; the message says why in one line."""


def parse_trusted(value: str, source: str) -> TrustedKey:
    """A verifier key given inline, or read from the file `value` names."""
    text = value
    path = Path(value).expanduser()
    try:
        is_file = path.is_file()
    except (OSError, ValueError):
        is_file = False
    if "+" not in value or is_file:
        try:
            with path.open("rb") as stream:
                raw = stream.read(MAX_KEY_FILE + 1)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or "not a readable file"
            raise TrustedKeyError(f"{source} {value[:80]}: {reason}") from None
        if len(raw) > MAX_KEY_FILE:
            raise TrustedKeyError(f"{source} {value[:80]}: too large for a verifier key")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TrustedKeyError(f"{source} {value[:80]}: not UTF-8 text") from None
    try:
        return note.parse_verifier_key(text)
    except note.NoteError as error:
        raise TrustedKeyError(f"{source}: {error}") from None


def resolve_trusted_key(option: str | None, env_value: str | None) -> tuple[TrustedKey, str] | None:
    """(key, where it came from): `--public-key` first, then the value of
    AMITY_AUDIT_PUBLIC_KEY; None if neither is given."""
    if option is not None:
        return parse_trusted(option, "--public-key"), "--public-key"
    if env_value:
        return parse_trusted(env_value, PUBLIC_KEY_ENV), PUBLIC_KEY_ENV
    return None
