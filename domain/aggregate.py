"""The event-sourced `Partnership` aggregate, built on the same `evolve` as the workflow.

Each stored event is an envelope: the domain event plus who sent the command, its
idempotency key and the Temporal run that decided it. Folding envelopes with `evolve`
rebuilds the aggregate; an event the rules forbid raises `IllegalEvent`, so the store
refuses what the workflow would refuse.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.decider import evolve
from domain.events import AnyEvent
from domain.state import PartnershipState


class PartnershipEvent(BaseModel):
    """One stored event (the library's domain event): metadata + the fact itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    command: str
    via: str = "update"
    actor: str
    request_id: str
    workflow_id: str
    run_id: str
    event: AnyEvent

    def mutate(self, aggregate: Partnership | None) -> Partnership:
        """The library's projector calls this for every event in order."""
        state = evolve(aggregate.state if aggregate else None, self.event, self.originator_version)
        return Partnership(
            id=self.originator_id,
            version=self.originator_version,
            created_on=aggregate.created_on if aggregate else self.timestamp,
            modified_on=self.timestamp,
            state=state,
        )


class Partnership(BaseModel):
    """Immutable aggregate: its identity, version and the decider's state."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    version: int
    created_on: datetime
    modified_on: datetime
    state: PartnershipState


class PartnershipSnapshot(BaseModel):
    """The aggregate at one version, stored beside the log so long histories load fast.

    Snapshots are a cache, not evidence: the tamper-evident log is the events alone.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    created_on: datetime
    state: PartnershipState

    def mutate(self, aggregate: Partnership | None) -> Partnership:
        """The library's projector starts from a snapshot through this."""
        return Partnership(
            id=self.originator_id,
            version=self.originator_version,
            created_on=self.created_on,
            modified_on=self.timestamp,
            state=self.state,
        )
