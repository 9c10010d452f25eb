"""record_rejected_signal (engine): a signal that could not be applied, kept for the audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from domain.errors import shorten
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, command, evolves
from domain.stages import EVERY_STAGE
from domain.state import MAX_REJECTED_IN_STATE, PartnershipState, RejectedCommand
from domain.values import LongText, ShortText


class RecordRejectedSignal(Command):
    """Engine command: a signal that could not be applied, kept for the audit."""

    name: ClassVar[str] = "record_rejected_signal"

    command: ShortText
    reason: LongText
    sender_request_id: ShortText | None = None


class SignalRejected(Event):
    """A signal that was not applied; kept so the audit shows every attempt."""

    type: Literal["signal_rejected"] = "signal_rejected"
    command: str
    reason: str
    request_id: str | None = None

    def summary(self) -> str:
        return f"signal {self.command} not applied: {self.reason}"


@command(RecordRejectedSignal, EVERY_STAGE, engine=True)
def record_rejected_signal(
    state: PartnershipState, cmd: RecordRejectedSignal, now: datetime
) -> EventsOrRejection:
    return [
        SignalRejected(
            at=now,
            command=cmd.command,
            reason=shorten(cmd.reason),
            request_id=cmd.sender_request_id,
        )
    ]


@evolves(SignalRejected, EVERY_STAGE)
def signal_rejected(state: PartnershipState, event: SignalRejected, version: int) -> dict[str, Any]:
    rejected = RejectedCommand(
        command=event.command, reason=event.reason, at=event.at, request_id=event.request_id
    )
    return {"rejected": [*state.rejected, rejected][-MAX_REJECTED_IN_STATE:]}
