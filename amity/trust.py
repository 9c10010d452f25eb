"""Which key `audit verify` trusts, and the checkpoints auditors bring from outside the store.

A key is trusted only when it comes from outside the store, in this order: `--public-key`,
AMITY_AUDIT_PUBLIC_KEY, the public half of an explicitly configured signing key
(AMITY_AUDIT_KEY / AMITY_AUDIT_KEY_FILE), or the key the witness pinned at its first
checkpoint (it lives in Temporal: trust on first use). The key stored beside each checkpoint
and a key file generated beside the store are never trusted by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from amity.cli_common import UserError
from audit.keys import AuditKeyError, configured_signing_key
from audit.trusted_key import TrustedKeyError, parse_trusted
from audit.verify import Outside, TrustedKey
from runtime.settings import Settings
from tlog import note


@dataclass(frozen=True)
class Trust:
    key: TrustedKey
    source: str

    @property
    def name(self) -> str:
        return self.key[0]


def read_verifier_key(value: str, source: str) -> TrustedKey:
    """A verifier key (name+id+key) given as such or as a file holding one."""
    try:
        return parse_trusted(value, source)
    except TrustedKeyError as error:
        raise UserError(str(error)) from None


def configured_trust(public_key: str | None, settings: Settings) -> Trust | None:
    """The first key configured outside the store (--public-key, AMITY_AUDIT_PUBLIC_KEY, the
    configured signing key), or None (the witness may still pin one)."""
    env_public_key, origin = settings.audit_public_key, settings.audit_origin
    trust: Trust | None = None
    if public_key is not None:
        trust = Trust(read_verifier_key(public_key, "--public-key"), "--public-key")
    elif env_public_key:
        trust = Trust(
            read_verifier_key(env_public_key, "AMITY_AUDIT_PUBLIC_KEY"), "AMITY_AUDIT_PUBLIC_KEY"
        )
    else:
        try:
            signing = configured_signing_key(settings)
        except AuditKeyError as error:
            raise UserError(str(error)) from None
        if signing is not None:
            trust = Trust(
                (origin, signing.key.public_key()),
                f"the public half of the configured signing key {signing.source}",
            )
    if trust is not None and trust.name != origin:
        raise UserError(
            f"the trusted key {trust.source} is for the log {trust.name!r}, but the expected"
            f" origin is {origin!r} (AMITY_AUDIT_ORIGIN)"
        )
    return trust


def trusted_checkpoints(paths: list[Path]) -> list[Outside]:
    """Checkpoint notes auditors saved earlier (`--trusted FILE`), each read and parsed."""
    found = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise UserError(f"--trusted {path}: {reason}") from None
        try:
            note.parse(text)
        except note.NoteError as error:
            raise UserError(f"--trusted {path}: not a checkpoint note ({error})") from None
        found.append(Outside(f"trusted checkpoint {path}", text))
    return found
