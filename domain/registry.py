"""The catalogue of commands and events: the one place that says what exists.

Each command registers once, in its own module of `domain/slices/`: its name, its pydantic
model, the stages it may be sent in and its decide function. Each event registers once,
beside its evolution in the slice of the command that causes it: the stages it may be
applied in, the stage it leads to and how it changes the state.
Everything else is read from here: the decider's dispatch, the aggregate's checks, the
workflow's Update/Signal handlers, the JSON Schemas, the examples' check and the command
table of docs/operators.md (tests/domain/test_registry.py fails when any of them disagree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from domain.messages import Command, Event
from domain.values import Stage

if TYPE_CHECKING:
    from domain.state import PartnershipState


@dataclass(frozen=True)
class Rejection:
    """Why a command cannot be applied; `reason` is one line for people."""

    reason: str


#: What a decision returns: the events a command causes, or why it is refused.
EventsOrRejection = list[Event] | Rejection

#: (state, command, now) -> the events it causes, or why it is refused.
Decide = Callable[["PartnershipState", Any, datetime], Any]
#: (state, event, version) -> the state's fields the event changes.
Evolve = Callable[["PartnershipState", Any, int], dict[str, Any]]


@dataclass(frozen=True)
class CommandSpec:
    """One command: what it is called, what it carries, where it may go, what it causes."""

    name: str
    model: type[Command]
    stages: frozenset[Stage]
    decide: Decide
    #: Issued by the engine itself (policy timers, the audit of refused signals); people
    #: cannot send it, so it has no Update, Signal, schema or example.
    engine: bool = False

    @property
    def summary(self) -> str:
        """The first line of the model's docstring (the docs' table shows it)."""
        return (self.model.__doc__ or self.name).strip().splitlines()[0]


@dataclass(frozen=True)
class EventSpec:
    """One event: where the store may apply it and how it changes the state."""

    name: str
    model: type[Event]
    stages: frozenset[Stage]
    evolve: Evolve
    #: The stage the event moves a partnership to, if it moves it at all.
    leads_to: Stage | None = None


#: Every command by name, in the contract's order (people's commands, then the engine's).
COMMANDS: dict[str, CommandSpec] = {}
#: The commands people send (an Update and a Signal each), in the contract's order.
USER_COMMANDS: dict[str, type[Command]] = {}
#: Every event after `proposed` by type.
EVENTS: dict[str, EventSpec] = {}

D = TypeVar("D", bound=Callable[..., Any])
E = TypeVar("E", bound=Callable[..., Any])


def command(
    model: type[Command], stages: frozenset[Stage], *, engine: bool = False
) -> Callable[[D], D]:
    """Register `model`'s decision (the decorated function) and where it may be sent."""

    def register(decide: D) -> D:
        if model.name in COMMANDS:
            raise ValueError(f"command {model.name!r} registered twice")
        COMMANDS[model.name] = CommandSpec(model.name, model, frozenset(stages), decide, engine)
        if not engine:
            USER_COMMANDS[model.name] = model
        return decide

    return register


def evolves(
    model: type[Event], stages: frozenset[Stage], *, leads_to: Stage | None = None
) -> Callable[[E], E]:
    """Register how an event (the decorated function's) changes the state, where it may be
    applied and the stage it leads to."""
    name = model.model_fields["type"].default
    assert isinstance(name, str), model

    def register(evolve: E) -> E:
        if name in EVENTS:
            raise ValueError(f"event {name!r} registered twice")
        EVENTS[name] = EventSpec(name, model, frozenset(stages), evolve, leads_to)
        return evolve

    return register


def user_commands() -> list[CommandSpec]:
    return [spec for spec in COMMANDS.values() if not spec.engine]
