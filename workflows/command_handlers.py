"""One named Update (with its validator) and one named Signal per command of the catalogue.

They are added to the workflow class before `@workflow.defn` reads it, so they are ordinary
named handlers: the Temporal UI lists each by name, and
an Update still running when a run hands over is abandoned (Temporal answers "already
completed"; the client resends it to the next run with the same request_id). Each one only
names its command and calls the workflow's `_update`, `_validate` or `_signal`.

(No `from __future__ import annotations` here: Temporal reads the generated handlers'
annotations to know their payloads are RawValue.)
"""

from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue

from domain.registry import CommandSpec
from domain.state import Status
from workflows.payloads import NOTHING

#: An Update still waiting when the run hands over is answered "already completed";
#: clients resend it (same request_id) to the next run: runtime/sending.py. A Signal still
#: waiting at the hand-over gate is carried into the next run's input (workflows/handover.py),
#: so leaving its handler unfinished loses nothing and needs no warning.
ABANDON_ON_HANDOVER = workflow.HandlerUnfinishedPolicy.ABANDON


W = TypeVar("W", bound=type)


def with_command_handlers(specs: list[CommandSpec]) -> Any:
    """A class decorator adding `name`, `_check_name` and `name_signal` for every command."""

    def add(cls: W) -> W:
        for spec in specs:
            for attribute, handler in handlers(spec).items():
                if attribute in cls.__dict__:
                    raise TypeError(f"{cls.__name__}.{attribute} is written by hand")
                setattr(cls, attribute, handler)
        return cls

    return add


def handlers(spec: CommandSpec) -> dict[str, Any]:
    name = spec.name

    # `self` stays unannotated: Temporal reads every annotated parameter as a payload.
    async def update(self, payload: RawValue = NOTHING) -> Status:  # type: ignore[no-untyped-def]
        status: Status = await self._update(name, payload)
        return status

    def validate(self, payload: RawValue = NOTHING) -> None:  # type: ignore[no-untyped-def]
        self._validate(name, payload)

    async def signal(self, payload: RawValue = NOTHING) -> None:  # type: ignore[no-untyped-def]
        await self._signal(name, payload)

    for function, attribute in (
        (update, name),
        (validate, f"_check_{name}"),
        (signal, f"{name}_signal"),
    ):
        function.__name__ = function.__qualname__ = attribute
    # No description: the UI would add it to each name in its lists of Updates and Signals.
    named_update = workflow.update(name=name, unfinished_policy=ABANDON_ON_HANDOVER)(update)
    named_update.validator(validate)
    named_signal = workflow.signal(name=name, unfinished_policy=ABANDON_ON_HANDOVER)(signal)
    return {name: named_update, f"_check_{name}": validate, f"{name}_signal": named_signal}
