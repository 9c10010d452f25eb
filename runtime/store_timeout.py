"""How long one event-store activity attempt may run before Temporal gives it to a worker
again (AMITY_STORE_TIMEOUT).

The workflow asks for 30 s per attempt of `record_events` and `correction_target`. A worker
that dies holding an attempt delays that partnership by this much: nobody else may take it
until the attempt has timed out. An operator who wants a faster take-over (or the tests
that kill a worker) sets it here; the worker that schedules the activity applies it. Temporal
does not compare activity timeouts on replay, so a different value never breaks a history.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.worker import (
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

#: The activities that read or append the event store (activities/store.py).
STORE_ACTIVITIES = frozenset({"record_events", "correction_target"})


class StoreTimeout(Interceptor):
    """Gives every store activity the workflow schedules a start-to-close of `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.timeout = timedelta(seconds=seconds)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        timeout = self.timeout

        class _Outbound(WorkflowOutboundInterceptor):
            def start_activity(self, input: StartActivityInput):  # type: ignore[no-untyped-def]
                if input.activity in STORE_ACTIVITIES:
                    input.start_to_close_timeout = timeout
                return super().start_activity(input)

        class _Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_Outbound(outbound))

        return _Inbound
