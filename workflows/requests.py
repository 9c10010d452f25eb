"""What a partnership remembers of the request ids it applied: the outcome of each, and a
fingerprint of the command that used it (its name and a hash of its payload).

A request id makes a command safe to resend: the same command with the same payload is
answered with its earlier outcome and applies nothing. The same id on another command or
another payload is not a resend but a mistake (a copied file with new data and the old
id), and answering "already applied" would lose the new data without a word: it is
refused, naming the command that used the id first.

Runs from before fingerprints were kept carry ids without one; those keep the earlier
answer ("already applied") whatever the payload, since nothing is known to compare.
"""

from __future__ import annotations

import hashlib
import json

from domain.messages import Command
from domain.state import CommandOutcome

#: How many applied request ids are remembered for idempotency (carried across runs).
REMEMBERED_REQUESTS = 5_000
#: ... within this many bytes, so that with a state of MAX_STATE_BYTES the continue-as-new
#: input stays under Temporal's 2 MiB.
REMEMBERED_BYTES = 600_000
#: What one remembered id costs beside its own length: its copy in the outcome, the
#: outcome's other fields, and its fingerprint (the command's name and 64 hex digits).
ENTRY_BYTES = 160
FINGERPRINT_BYTES = 100


def fingerprint(command: Command) -> str:
    """`name:sha256` of the command's payload as its model reads it (keys sorted, the
    request id left out): two payloads that mean the same give the same fingerprint."""
    data = command.model_dump(mode="json", exclude={"request_id"})
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{command.name}:{digest}"


def reuse_reason(request_id: str, earlier_command: str) -> str:
    """The one line that refuses a request id already used by another command or payload."""
    return (
        f"request_id {request_id} was already used for {earlier_command} with a different"
        " payload; use a new request_id"
    )


class AppliedRequests:
    """The request ids applied so far, with their outcomes and (when known) fingerprints."""

    def __init__(
        self,
        outcomes: dict[str, CommandOutcome] | None = None,
        fingerprints: dict[str, str] | None = None,
    ) -> None:
        self.outcomes: dict[str, CommandOutcome] = dict(outcomes or {})
        self.fingerprints: dict[str, str] = dict(fingerprints or {})

    def __contains__(self, request_id: str) -> bool:
        return request_id in self.outcomes

    def earlier(self, request_id: str) -> CommandOutcome | None:
        return self.outcomes.get(request_id)

    def reused(self, request_id: str, command: Command) -> str | None:
        """Why `command` may not use `request_id` (used before by another command or
        payload), or None: a new id, a true repeat, or an id remembered without a
        fingerprint (from a run before fingerprints were kept)."""
        earlier = self.outcomes.get(request_id)
        known = self.fingerprints.get(request_id)
        if earlier is None or known is None or known == fingerprint(command):
            return None
        return reuse_reason(request_id, known.split(":", 1)[0] or earlier.command)

    def remember(self, outcome: CommandOutcome, command: Command | None = None) -> None:
        self.outcomes[outcome.request_id] = outcome
        if command is not None:
            self.fingerprints[outcome.request_id] = fingerprint(command)

    def newest(self) -> tuple[dict[str, CommandOutcome], dict[str, str]]:
        """The newest ids with their fingerprints, as many as fit beside the state in the
        next run's input (REMEMBERED_REQUESTS, at most REMEMBERED_BYTES)."""
        kept: list[str] = []
        size = 0
        for request_id in reversed(list(self.outcomes)[-REMEMBERED_REQUESTS:]):
            size += 2 * len(request_id) + ENTRY_BYTES
            if request_id in self.fingerprints:
                size += len(request_id) + FINGERPRINT_BYTES
            if size > REMEMBERED_BYTES:
                break
            kept.append(request_id)
        kept.reverse()
        outcomes = {request_id: self.outcomes[request_id] for request_id in kept}
        fingerprints = {
            request_id: self.fingerprints[request_id]
            for request_id in kept
            if request_id in self.fingerprints
        }
        return outcomes, fingerprints
