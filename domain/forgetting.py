"""Finding and redacting one person's name in JSON data; pure, so workflows can use it too.

A person's name appears under the keys in PERSON_KEYS (a person or a list of persons,
each an object with a `name`). `amity forget` tells running workflows which name to drop
with a `ForgetMark`: a fresh random salt and the SHA-256 of salt + normalised name. The
workflow tests each name it holds against the mark and replaces a match by FORGOTTEN; the
name itself never travels in the signal.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FORGOTTEN = "[forgotten]"
#: Keys whose values are persons (or lists of persons) in events, state and corrections.
PERSON_KEYS = frozenset(
    {"proposed_by", "by", "delegation", "counterparts", "signatories", "participants"}
)


def normalise(name: str) -> str:
    """The form under which two spellings of one person are the same person."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class ForgetMark(BaseModel):
    """Which name to forget, without the name: sha256(salt + normalised name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    salt: str = Field(min_length=32, max_length=64, pattern="^[0-9a-f]+$")
    digest: str = Field(min_length=64, max_length=64, pattern="^[0-9a-f]+$")

    @classmethod
    def of(cls, name: str) -> ForgetMark:
        """A mark with a fresh salt (outside workflows only: it draws random bytes)."""
        salt = os.urandom(16).hex()
        return cls(salt=salt, digest=_salted(salt, name))

    def matches(self, name: str) -> bool:
        return name != FORGOTTEN and _salted(self.salt, name) == self.digest


def _salted(salt: str, name: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + normalise(name).encode()).hexdigest()


def replace_names(value: Any, drop: Callable[[str], bool], under_person_key: bool = False) -> Any:
    """A copy of a JSON value where every person's name for which `drop` is true reads
    FORGOTTEN (the same object when nothing changed, so callers can tell cheaply)."""
    if isinstance(value, dict):
        if under_person_key and isinstance(value.get("name"), str):
            name = value["name"]
            return {**value, "name": FORGOTTEN} if name != FORGOTTEN and drop(name) else value
        changed = False
        copy: dict[str, Any] = {}
        for key, item in value.items():
            new = replace_names(item, drop, key in PERSON_KEYS)
            changed = changed or new is not item
            copy[key] = new
        return copy if changed else value
    if isinstance(value, list):
        items = [replace_names(item, drop, under_person_key) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def holds(value: Any, match: Callable[[str], bool], under_person_key: bool = False) -> bool:
    """Whether a JSON value names a person for whom `match` is true."""
    if isinstance(value, dict):
        if under_person_key and isinstance(value.get("name"), str):
            return value["name"] != FORGOTTEN and match(value["name"])
        return any(holds(v, match, k in PERSON_KEYS) for k, v in value.items())
    if isinstance(value, list):
        return any(holds(item, match, under_person_key) for item in value)
    return False
