"""Turning a raw payload into a command, or into a one-line reason it is not one."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.catalogue import USER_COMMANDS
from domain.errors import one_line
from domain.messages import Command
from domain.slices.propose import Proposal
from domain.values import PRINTABLE


class InvalidInput(ValueError):  # noqa: N818 - a public name others import
    """A payload that is not a valid command; the message is one line for people."""


def parse_payload(model: type[Command], payload: Any, printable: bool = False) -> Command:
    """Validate a decoded JSON payload against `model`; raise InvalidInput with one line.
    `printable` also refuses control characters in people's text (new input only)."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise InvalidInput(
            f"{model.name}: the payload must be one JSON object, got {type(payload).__name__}"
        )
    try:
        return model.model_validate(payload, context={PRINTABLE: printable})
    except ValidationError as error:
        raise InvalidInput(f"{model.name}: {one_line(error)}") from None


def parse_command(name: str, payload: Any, printable: bool = False) -> Command:
    """Look up a user command by name (in the catalogue) and validate its payload."""
    model = USER_COMMANDS.get(name)
    if model is None:
        known = ", ".join(USER_COMMANDS)
        raise InvalidInput(f"unknown command {name[:60]!r}; known commands: {known}")
    return parse_payload(model, payload, printable)


def parse_proposal(payload: Any, printable: bool = False) -> Proposal:
    """Validate a start input."""
    proposal = parse_payload(Proposal, payload, printable)
    assert isinstance(proposal, Proposal)
    return proposal
