"""What `amity start / send` check locally, before any engine is reached.

A bad proposal, command or id is refused here with one line; nothing in this module talks to
Temporal, so a refused command never pays for loading its client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from amity.cli_common import UserError
from domain.identity import check_partnership_id
from domain.parsing import InvalidInput, parse_command, parse_proposal
from domain.slices.propose import Proposal, refuse_proposal
from domain.values import Party


def proposal_summary(proposal: Proposal) -> str:
    """`Mianyang (CN) ↔ Cupertino (US) · friendly relations`: the UI's static summary."""
    i, p = proposal.initiator, proposal.partner
    return f"{i.name} ({i.country}) ↔ {p.name} ({p.country}) · {proposal.tier.label}"


def proposal_details(proposal: Proposal) -> str:
    """The UI's static details (Markdown): the two parties and the tier. No person's name: a
    name in Temporal's metadata could not be forgotten (`amity forget`)."""
    i, p = proposal.initiator, proposal.partner
    return f"{proposal.tier.label} between {_party(i)} and {_party(p)}"


def _party(party: Party) -> str:
    region = f"{party.region}, " if party.region else ""
    return f"**{party.name}** ({region}{party.country})"


def check_proposal(payload: dict[str, Any], source: str) -> Proposal:
    try:
        proposal = parse_proposal(payload, printable=True)
    except InvalidInput as error:
        reason = str(error).removeprefix("propose: ")
        raise UserError(f"{source}: invalid proposal: {reason}") from None
    refused = refuse_proposal(proposal, datetime.now(UTC))
    if refused is not None:  # the workflow would fail at its start for the same reason
        raise UserError(f"{source}: invalid proposal: {refused}")
    return proposal


def check_id(partnership_id: str) -> str:
    try:
        return check_partnership_id(partnership_id)
    except ValueError as error:
        raise UserError(str(error)) from None


def check_command(command: str, payload: dict[str, Any]) -> None:
    """Refuse an unknown command or an invalid payload before anything is sent."""
    try:
        parse_command(command, payload, printable=True)
    except InvalidInput as error:
        raise UserError(str(error)) from None
