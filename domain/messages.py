"""The two kinds of message a partnership knows: commands (asked of it) and events (facts).

Each command is one JSON object, so the Temporal UI's forms and any client can send it.
Events are past-tense, immutable and self-describing (`type`), so an auditor can read
the stored JSON without our code. `at` is the engine's time of the decision (the
workflow's deterministic clock); the store adds its own recording timestamp.

Each concrete command and the events only it causes live together in `domain/slices/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from domain.values import Model, Token


class Command(Model):
    """Base of every command: who sent it and the idempotency key."""

    name: ClassVar[str] = ""

    actor: Token | None = Field(
        default=None, description="Who sent it: an operator's or an integration's name"
    )
    request_id: Token | None = Field(
        default=None,
        description=(
            "Idempotency key: a repeat with the same key and payload changes nothing;"
            " the same key with another command or payload is refused"
        ),
    )


class Event(Model):
    type: str
    at: datetime

    def summary(self) -> str:
        """One readable sentence for auditors' tables, reminders and the UI."""
        return self.type
