"""The catalogue is complete: every command model and every event has exactly one entry."""

from __future__ import annotations

import subprocess
import sys
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.catalogue import COMMANDS, EVENTS, USER_COMMANDS
from domain.decider import decide
from domain.events import AnyEvent
from domain.messages import Command
from domain.registry import command, evolves
from domain.slices.open_talks import OpenTalks, TalksOpened
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
    (union,) = typing.get_args(AnyEvent)[:1]
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
        evolves(TalksOpened, frozenset({Stage.PROPOSED}))(lambda s, ev, v: {})


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


SLICES = Path(__file__).resolve().parents[2] / "domain" / "slices"
SLICE_TESTS = Path(__file__).resolve().parent / "slices"


def test_each_command_is_one_slice_with_its_own_tests() -> None:
    """A command's model, its decision and its events' evolutions live in
    domain/slices/<command>.py; its given/when/then tests in tests/domain/slices/."""
    for name, spec in COMMANDS.items():
        home = f"domain.slices.{name}"
        assert (spec.model.__module__, spec.decide.__module__) == (home, home), name
        assert (SLICE_TESTS / f"test_{name}.py").is_file(), name
    for name, event in EVENTS.items():
        assert event.model.__module__ == event.evolve.__module__, name
        assert event.model.__module__.removeprefix("domain.slices.") in COMMANDS, name
    modules = {path.stem for path in SLICES.glob("*.py")} - {"__init__"}
    assert modules == {*COMMANDS, "propose"}
    assert (SLICE_TESTS / "test_propose.py").is_file()


@pytest.mark.parametrize("first", ["domain.slices.withdraw", "domain.parsing", "domain.events"])
def test_the_catalogue_order_does_not_depend_on_what_is_imported_first(first: str) -> None:
    """The order of domain/slices/__init__.py is the catalogue's (and so the schemas', the
    docs table's and the workflow's handlers'), even when a slice is imported on its own."""
    code = f"import {first}\nfrom domain.catalogue import COMMANDS\nprint(' '.join(COMMANDS))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == list(COMMANDS)
