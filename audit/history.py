"""A partnership's history as an auditor reads it: every event, in order, who, when, what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.aggregate import PartnershipEvent
from store.application import PartnershipStore


class HistoryLine(BaseModel):
    """One stored event, flattened for tables and JSON exports."""

    version: int
    recorded_at: datetime
    decided_at: datetime
    type: str
    command: str
    via: str
    actor: str
    request_id: str
    workflow_id: str
    run_id: str
    summary: str
    event: dict[str, Any]


def summarise(stored: PartnershipEvent) -> str:
    """A short readable sentence for one stored event."""
    return stored.event.summary()


def history(store: PartnershipStore, partnership_id: str) -> list[HistoryLine]:
    """Every stored event of one partnership, oldest first."""
    return [
        HistoryLine(
            version=stored.originator_version,
            recorded_at=stored.timestamp,
            decided_at=stored.event.at,
            type=stored.event.type,
            command=stored.command,
            via=stored.via,
            actor=stored.actor,
            request_id=stored.request_id,
            workflow_id=stored.workflow_id,
            run_id=stored.run_id,
            summary=summarise(stored),
            event=stored.event.model_dump(mode="json"),
        )
        for stored in store.history(partnership_id)
    ]
