"""A partnership's history as an auditor reads it: every event, in order, who, when, what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from domain.aggregate import PartnershipEvent
from domain.store import PartnershipStore


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


def _people(people: list[Any]) -> str:
    return ", ".join(
        f"{p.name}" + (f" ({p.title})" if getattr(p, "title", None) else "") for p in people
    )


def summarise(stored: PartnershipEvent) -> str:
    """A short readable sentence for one event."""
    e = stored.event
    match e.type:
        case "proposed":
            return (
                f"{e.initiator.name} ({e.initiator.country}) proposes {e.tier.label} with"
                f" {e.partner.name} ({e.partner.country}); fields: {', '.join(e.fields)}"
            )
        case "talks_opened":
            return "talks opened" + (f" by {e.by.name}" if e.by else "")
        case "meeting_recorded":
            return f"meeting on {e.date} at {e.place}: {_people(e.delegation)} with {_people(e.counterparts)}"
        case "memorandum_drafted":
            return f"draft {e.draft_version}: {e.title} ({', '.join(e.languages)})"
        case "approval_recorded":
            required = "required " if e.required else ""
            return f"{required}approval {e.decision.value} by {e.authority} ({e.side.value})"
        case "proposal_rejected":
            return f"rejected: {e.reason}"
        case "memorandum_signed":
            return f"memorandum (draft {e.draft_version}) signed on {e.date} at {e.place} by {_people(e.signatories)}"
        case "exchange_recorded":
            return f"{e.kind.value} in {e.field.value} on {e.date}: {e.title}"
        case "reactivated":
            return "active again after dormancy"
        case "invitation_extended":
            return f"{e.invitation_id}: {e.from_side.value} invites {e.to_side.value} to {e.event}"
        case "invitation_answered":
            return f"{e.invitation_id} {'accepted' if e.accepted else 'declined'}"
        case "upgraded":
            return f"upgraded from {e.from_tier.label} to {e.to_tier.label}"
        case "renewed":
            return f"renewed until {e.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        case "corrected":
            return f"correction of version {e.target_version} ({e.target_type}): {', '.join(e.correction)} — {e.reason}"
        case "withdrawn" | "terminated":
            return f"{e.type}: {e.reason}"
        case "talks_deadline_passed":
            return f"talks deadline {e.deadline:%Y-%m-%d %H:%M:%S} UTC passed without a signed memorandum"
        case "became_dormant":
            return f"dormant: no exchange since {e.idle_since:%Y-%m-%d %H:%M:%S} UTC"
        case "renewal_due":
            return f"renewal due: the term ends {e.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        case "expired":
            return "expired: the term ended without renewal"
        case "signal_rejected":
            return f"signal {e.command} not applied: {e.reason}"
    return e.type


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
