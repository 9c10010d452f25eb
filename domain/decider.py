"""The partnership's rules, dispatched in one pure place: `decide`, `evolve` and `fold`.

The workflow calls `decide` to validate an Update before anything is recorded and to
answer `status` without I/O; the event-sourced aggregate calls `evolve` to rebuild state
and to refuse, at the store, an event the rules do not allow. Both bodies share this brain,
so the rules cannot drift between Temporal and the event store. Each command's own rules
live in its slice (`domain/slices/`); this module looks them up in the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.catalogue import COMMANDS, EVENTS
from domain.errors import IllegalEvent
from domain.events import AnyEvent
from domain.messages import Command, Event
from domain.registry import Rejection
from domain.slices.propose import Proposal, Proposed, proposed
from domain.state import PartnershipState, updated
from domain.values import Stage

EventsOrRejection = list[AnyEvent] | Rejection


def _stages(stages: Iterable[Stage]) -> str:
    return ", ".join(sorted(s.value for s in stages))


def decide(state: PartnershipState | None, command: Command, now: datetime) -> EventsOrRejection:
    """Return the events `command` causes in `state`, or why it is refused."""
    if isinstance(command, Proposal):
        if state is not None and not state.stage.is_terminal:
            return Rejection(
                f"partnership {state.partnership_id} already exists and is {state.stage.value}"
            )
        return Rejection("a proposal needs the partnership id; use decide_proposal")
    if state is None:
        return Rejection("the partnership has not been proposed yet")
    spec = COMMANDS.get(command.name)
    if spec is None or not isinstance(command, spec.model):
        return Rejection(f"unknown command {command.name!r}")
    allowed = spec.stages
    if state.stage not in allowed:
        return Rejection(
            f"{command.name} is not allowed while the partnership is {state.stage.value}"
            f" (allowed in: {_stages(allowed)})"
        )
    decision: EventsOrRejection = spec.decide(state, command, now)
    return decision


def _require(state: PartnershipState | None, event: Event) -> PartnershipState:
    if state is None:
        raise IllegalEvent(f"{event.type} before the partnership was proposed")
    if state.stage not in EVENTS[event.type].stages:
        raise IllegalEvent(f"{event.type} is not allowed while {state.stage.value}")
    return state


def evolve(state: PartnershipState | None, event: AnyEvent, version: int) -> PartnershipState:
    """Apply one event; raise IllegalEvent when the rules forbid it here."""
    if isinstance(event, Proposed):
        if state is not None and not state.stage.is_terminal:
            raise IllegalEvent(f"proposed while the partnership is {state.stage.value}")
        return proposed(event, version)
    spec = EVENTS.get(event.type)
    if spec is None:  # pragma: no cover - every event of the union registers in its slice
        raise IllegalEvent(f"unknown event type {event.type}")
    current = _require(state, event)
    changes: dict[str, Any] = {"version": version}
    if spec.leads_to is not None and spec.leads_to != current.stage:
        changes["stage"] = spec.leads_to
        changes["stage_since"] = event.at
    changes.update(spec.evolve(current, event, version))
    return updated(current, changes)


def fold(
    events: Iterable[AnyEvent], state: PartnershipState | None = None
) -> PartnershipState | None:
    """Replay events from `state` (versions continue from its version)."""
    version = state.version if state is not None else 0
    for event in events:
        version += 1
        state = evolve(state, event, version)
    return state
