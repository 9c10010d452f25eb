"""The client-side payload guard without a server: every outbound call that carries a
command is measured as it will be sent, refused above the cap with a one-line reason that
names the call and the largest field, and otherwise passed on unchanged.

The guard only reads the call's name and arguments, so the inputs here carry just those;
the next interceptor records what reached it (what Temporal would have been sent).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.client import OutboundInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.limits import MAX_PAYLOAD_BYTES
from runtime.guard import PayloadGuard, PayloadTooLarge

CONVERTER = pydantic_data_converter.payload_converter


class Recorder(OutboundInterceptor):
    """The end of the chain: remembers each call and answers with a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def start_workflow(self, input: Any) -> Any:
        self.calls.append(("start_workflow", input))
        return "handle"

    async def signal_workflow(self, input: Any) -> None:
        self.calls.append(("signal_workflow", input))

    async def start_workflow_update(self, input: Any) -> Any:
        self.calls.append(("start_workflow_update", input))
        return "update handle"

    async def start_update_with_start_workflow(self, input: Any) -> Any:
        self.calls.append(("start_update_with_start_workflow", input))
        return "update-with-start handle"


def guarded() -> tuple[OutboundInterceptor, Recorder]:
    recorder = Recorder()
    return PayloadGuard(CONVERTER).intercept_client(recorder), recorder


def sized(size: int) -> dict[str, str]:
    """A command whose encoded payload is exactly `size` bytes, its largest field `text`."""
    base = {"actor": "ops", "text": ""}
    empty = len(CONVERTER.to_payloads([base])[0].data)
    command = {**base, "text": "x" * (size - empty)}
    assert len(CONVERTER.to_payloads([command])[0].data) == size
    return command


def start(name: str, *args: Any) -> SimpleNamespace:
    return SimpleNamespace(workflow=name, args=list(args))


def signal(name: str, *args: Any) -> SimpleNamespace:
    return SimpleNamespace(signal=name, args=list(args))


def update(name: str, *args: Any) -> SimpleNamespace:
    return SimpleNamespace(update=name, args=list(args))


def refusal(call: Any) -> str:
    with pytest.raises(PayloadTooLarge) as raised:
        asyncio.run(call)
    return str(raised.value)


def test_a_command_at_the_cap_is_sent_and_the_answer_passed_back() -> None:
    guard, recorder = guarded()
    command = sized(MAX_PAYLOAD_BYTES)
    inputs = [start("Partnership", command), signal("record_exchange", command)]
    inputs += [update("draft_memorandum", command)]
    both = SimpleNamespace(
        start_workflow_input=start("Partnership", command),
        update_workflow_input=update("draft_memorandum", command),
    )
    assert asyncio.run(guard.start_workflow(inputs[0])) == "handle"
    assert asyncio.run(guard.signal_workflow(inputs[1])) is None
    assert asyncio.run(guard.start_workflow_update(inputs[2])) == "update handle"
    assert asyncio.run(guard.start_update_with_start_workflow(both)) == "update-with-start handle"
    assert [call for _, call in recorder.calls] == [*inputs, both]
    assert [name for name, _ in recorder.calls] == [
        "start_workflow",
        "signal_workflow",
        "start_workflow_update",
        "start_update_with_start_workflow",
    ]


def test_one_byte_over_the_cap_is_refused_naming_the_call_and_field_and_not_sent() -> None:
    guard, recorder = guarded()
    command = sized(MAX_PAYLOAD_BYTES + 1)
    over = f"{MAX_PAYLOAD_BYTES + 1:,} bytes, at most {MAX_PAYLOAD_BYTES:,}"
    for call, name in [
        (guard.start_workflow(start("Partnership", command)), "Partnership"),
        (guard.signal_workflow(signal("record_exchange", command)), "record_exchange"),
        (guard.start_workflow_update(update("draft_memorandum", command)), "draft_memorandum"),
    ]:
        message = refusal(call)
        assert message.startswith(f"{name}: text: too large: the payload is {over}")
        assert "\n" not in message
    assert recorder.calls == []


def test_update_with_start_checks_the_start_and_the_update_each_by_its_name() -> None:
    guard, recorder = guarded()
    small, big = {"actor": "ops"}, sized(MAX_PAYLOAD_BYTES + 1)
    big_start = SimpleNamespace(
        start_workflow_input=start("Partnership", big),
        update_workflow_input=update("open_talks", small),
    )
    big_update = SimpleNamespace(
        start_workflow_input=start("Partnership", small),
        update_workflow_input=update("open_talks", big),
    )
    assert refusal(guard.start_update_with_start_workflow(big_start)).startswith("Partnership: ")
    assert refusal(guard.start_update_with_start_workflow(big_update)).startswith("open_talks: ")
    assert recorder.calls == []


def test_the_size_is_that_of_every_argument_together() -> None:
    guard, recorder = guarded()
    half = sized(MAX_PAYLOAD_BYTES // 2 + 1)
    message = refusal(guard.start_workflow(start("Partnership", half, half)))
    assert message.startswith("Partnership: text: too large")
    assert recorder.calls == []


def test_a_call_without_arguments_is_sent_as_it_is() -> None:
    guard, recorder = guarded()
    empty = signal("mark_dormant")
    asyncio.run(guard.signal_workflow(empty))
    assert recorder.calls == [("signal_workflow", empty)]
