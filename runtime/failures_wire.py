"""What a refusal looks like on the wire: the reason, without the worker's stack trace.

A refused command, an invalid proposal or a bad query is an answer to the user, not a bug:
the Web UI and every client show the failure's message, and a Python traceback with the
worker's file paths under it only hides the reason (and tells whoever reads it where the
code lives). Every other failure keeps its stack: that one is for whoever debugs it.
"""

from __future__ import annotations

from temporalio.api.failure.v1 import Failure
from temporalio.converter import DefaultFailureConverter, PayloadConverter
from temporalio.exceptions import ApplicationError

#: ApplicationError types that carry an answer to the user (workflows/partnership.py).
REASON_ONLY = frozenset(
    {"CommandRejected", "InvalidProposal", "InvalidCommand", "InvalidQuery", "StoreRefused"}
)


class ReasonOnlyFailureConverter(DefaultFailureConverter):
    """Temporal's failure converter, minus the stack trace of Amity's refusals."""

    def to_failure(
        self,
        exception: BaseException,
        payload_converter: PayloadConverter,
        failure: Failure,
    ) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, ApplicationError) and exception.type in REASON_ONLY:
            failure.stack_trace = ""
