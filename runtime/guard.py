"""A client-side guard: a command too large for Temporal is refused before it is sent.

Without it an Update between Amity's limit and gRPC's 4 MiB reaches the worker, whose
answer (which echoes the request) passes Temporal's 2 MiB limit: that workflow task fails,
the caller hears only "Workflow Task in failed state", and Updates sent in the same task
fail with it. Every client made by `runtime.connect` carries this guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    StartWorkflowUpdateWithStartInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.converter import PayloadConverter

from domain.limits import too_large


class PayloadTooLarge(ValueError):  # noqa: N818 - reads as the situation it names
    """The message is one line and names the largest field."""


class PayloadGuard(Interceptor):
    def __init__(self, converter: PayloadConverter) -> None:
        self.converter = converter

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Guarded(next, self.converter)


class _Guarded(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, converter: PayloadConverter) -> None:
        super().__init__(next)
        self.converter = converter

    def check(self, name: str, args: Sequence[Any]) -> None:
        if not args:
            return
        size = sum(len(p.data) for p in self.converter.to_payloads(args))
        reason = too_large(name, size, args[0])
        if reason is not None:
            raise PayloadTooLarge(reason)

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        self.check(input.workflow, input.args)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        self.check(input.signal, input.args)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        self.check(input.update, input.args)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: StartWorkflowUpdateWithStartInput
    ) -> WorkflowUpdateHandle[Any]:
        self.check(input.start_workflow_input.workflow, input.start_workflow_input.args)
        self.check(input.update_workflow_input.update, input.update_workflow_input.args)
        return await super().start_update_with_start_workflow(input)
