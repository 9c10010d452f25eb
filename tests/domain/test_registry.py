"""The catalogue is complete: every command model and every event has exactly one entry."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest

from domain import events as e
from domain.decider import decide
from domain.messages import Command
from domain.registry import COMMANDS, EVENTS, USER_COMMANDS, command, evolves
from domain.slices.open_talks import OpenTalks
from domain.slices.propose import Proposal
from domain.values import Stage


def subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *subclasses(sub)}
    return found


def test_every_command_model_is_registered_once() -> None:
    models = {m for m in subclasses(Command) if m.__module__.startswith("domain.slices.")}
    assert {spec.model for spec in COMMANDS.values()} == models - {Proposal}
    assert all(spec.name == spec.model.name for spec in COMMANDS.values())


def test_people_send_the_contracts_commands_in_its_order() -> None:
    assert list(USER_COMMANDS) == [
        "open_talks",
        "record_meeting",
        "draft_memorandum",
        "record_approval",
        "sign_memorandum",
        "record_exchange",
        "extend_invitation",
        "answer_invitation",
        "upgrade",
        "renew",
        "correct",
        "withdraw",
        "terminate",
    ]
    assert {n for n, s in COMMANDS.items() if s.engine} == {
        "note_talks_deadline",
        "mark_dormant",
        "note_renewal_due",
        "expire",
        "record_rejected_signal",
    }


def test_every_event_but_the_proposal_has_an_evolution() -> None:
    (union,) = typing.get_args(e.AnyEvent)[:1]
    members = {m.model_fields["type"].default for m in typing.get_args(union)}
    assert set(EVENTS) == members - {"proposed"}
    assert all(spec.model.model_fields["type"].default == t for t, spec in EVENTS.items())


def test_every_user_command_documents_itself() -> None:
    for spec in COMMANDS.values():
        if not spec.engine:
            assert spec.model.__doc__ and spec.summary != spec.name, spec.name


def test_a_second_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        command(OpenTalks, frozenset({Stage.PROPOSED}))(lambda s, cmd, now: [])
    with pytest.raises(ValueError, match="registered twice"):
        evolves(e.TalksOpened, frozenset({Stage.PROPOSED}))(lambda s, ev, v: {})


def test_decide_dispatches_through_the_catalogue() -> None:
    """A command the catalogue does not hold is unknown, even one named like a known one."""
    from typing import ClassVar

    from tests.domain.scenario import given, proposed

    class Unregistered(OpenTalks):
        name: ClassVar[str] = "not_registered"

    class Impostor(Command):
        name: ClassVar[str] = "open_talks"

    state = given(proposed())
    now = datetime(2018, 1, 1, tzinfo=UTC)
    assert getattr(decide(state, Unregistered(), now), "reason", "") == (
        "unknown command 'not_registered'"
    )
    assert getattr(decide(state, Impostor(), now), "reason", "") == "unknown command 'open_talks'"
    assert next(iter(COMMANDS)) == "open_talks"  # nothing above changed the catalogue
