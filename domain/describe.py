"""One readable sentence per event: for auditors' tables, reminders and the UI."""

from __future__ import annotations

from typing import Any

from domain.events import AnyEvent


def _people(people: list[Any]) -> str:
    return ", ".join(
        f"{p.name}" + (f" ({p.title})" if getattr(p, "title", None) else "") for p in people
    )


def summarise_event(e: AnyEvent) -> str:
    """A short readable sentence for one event."""
    match e.type:
        case "proposed":
            return (
                f"{e.initiator.name} ({e.initiator.country}) proposes {e.tier.label} with"
                f" {e.partner.name} ({e.partner.country}); fields: {', '.join(e.fields)}"
            )
        case "talks_opened":
            return "talks opened" + (f" by {e.by.name}" if e.by else "")
        case "meeting_recorded":
            return (
                f"meeting on {e.date} at {e.place}:"
                f" {_people(e.delegation)} with {_people(e.counterparts)}"
            )
        case "memorandum_drafted":
            return f"draft {e.draft_version}: {e.title} ({', '.join(e.languages)})"
        case "approval_recorded":
            required = "required " if e.required else ""
            return f"{required}approval {e.decision.value} by {e.authority} ({e.side.value})"
        case "proposal_rejected":
            return f"rejected: {e.reason}"
        case "memorandum_signed":
            return (
                f"memorandum (draft {e.draft_version}) signed on {e.date} at {e.place}"
                f" by {_people(e.signatories)}"
            )
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
            changed = ", ".join(e.correction)
            target = f"version {e.target_version} ({e.target_type})"
            return f"correction of {target}: {changed} — {e.reason}"
        case "withdrawn" | "terminated":
            return f"{e.type}: {e.reason}"
        case "talks_deadline_passed":
            return f"talks deadline {e.deadline:%Y-%m-%d %H:%M:%S} UTC passed without a signature"
        case "became_dormant":
            return f"dormant: no exchange since {e.idle_since:%Y-%m-%d %H:%M:%S} UTC"
        case "renewal_due":
            return f"renewal due: the term ends {e.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        case "expired":
            return "expired: the term ended without renewal"
        case "signal_rejected":
            return f"signal {e.command} not applied: {e.reason}"
    return e.type
