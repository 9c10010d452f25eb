"""A partnership's workflow id names its event-sourced history, always the same one."""

from __future__ import annotations

import re
import uuid

#: Fixed namespace: changing it would orphan every stored history.
AMITY_NAMESPACE = uuid.UUID("8f3c2a4e-6a0b-5d7e-9c1f-2b4d6e8a0c13")

PARTNERSHIP_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


def aggregate_id(partnership_id: str) -> uuid.UUID:
    """uuid5 of the workflow id: the same id always names the same history."""
    return uuid.uuid5(AMITY_NAMESPACE, partnership_id)


def slug(name: str) -> str:
    """`Mianyang` -> `mianyang`, `San José` -> `san-jose` (ASCII letters kept)."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "party"


def conventional_id(initiator: str, partner: str) -> str:
    """The contract's convention: `partnership-<initiator>-<partner>`, lower case."""
    return f"partnership-{slug(initiator)}-{slug(partner)}"


def check_partnership_id(value: str) -> str:
    """Refuse ids that would be awkward in URLs, shells and visibility queries."""
    if not PARTNERSHIP_ID.match(value):
        raise ValueError(
            f"invalid partnership id {value[:60]!r}:"
            " use lower-case letters, digits, '.', '_' or '-'"
        )
    return value
