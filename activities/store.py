"""The bridge from the workflow to the event store.

Store calls block (SQLite, psycopg), so these are synchronous activities that the worker
runs on a thread pool. Errors that retrying cannot fix are non-retryable; everything else
(a locked SQLite file, a dropped PostgreSQL connection) is retried by Temporal.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError

from activities.messages import RecordRequest, RecordResult, TargetRequest
from domain.errors import IllegalEvent
from domain.slices.correct import CorrectionTarget
from runtime import metrics
from store.application import CommandMeta, PartnershipStore, RequestReused, StoreConflict


class StoreActivities:
    """Activities bound to one event store (one per worker process)."""

    def __init__(self, store: PartnershipStore) -> None:
        self.store = store

    # no_thread_cancel_exception: Temporal cancels a sync activity (a timeout, a shutdown)
    # by raising in its thread at whatever line it runs; an append must never be cut
    # between BEGIN and COMMIT. It ends on its own, bounded by the store's lock timeout.
    @activity.defn(name="record_events", no_thread_cancel_exception=True)
    def record_events(self, request: RecordRequest) -> RecordResult:
        """Append a command's events at the expected version, or find them already there."""
        meta = CommandMeta(
            command=request.command,
            actor=request.actor,
            request_id=request.request_id,
            workflow_id=request.workflow_id,
            run_id=request.run_id,
            via=request.via,
        )
        meter = activity.metric_meter()  # exported on the worker's one metrics endpoint
        try:
            with metrics.timed_append(meter):
                result = self.store.append(
                    request.partnership_id, request.events, meta, request.expected_version
                )
        except IllegalEvent as error:
            raise ApplicationError(
                f"the event store refused the events: {error}",
                type="IllegalEvent",
                non_retryable=True,
            ) from None
        except RequestReused as error:
            raise ApplicationError(str(error), type="RequestIdReused", non_retryable=True) from None
        except StoreConflict as error:
            metrics.counter(meter, metrics.STORE_CONFLICTS).add(1)
            raise ApplicationError(str(error), type="StoreConflict", non_retryable=True) from None
        count_recorded(meter, request, result.duplicate)
        activity.logger.info(
            "recorded %s for %s at version %s%s",
            request.command,
            request.partnership_id,
            result.version,
            " (already stored)" if result.duplicate else "",
            extra={
                "partnership_id": request.partnership_id,
                "request_id": request.request_id,
                "command": request.command,
                "version": result.version,
                "duplicate": result.duplicate,
            },
        )
        return RecordResult(
            version=result.version, duplicate=result.duplicate, events=result.events
        )

    @activity.defn(name="correction_target", no_thread_cancel_exception=True)
    def correction_target(self, request: TargetRequest) -> CorrectionTarget | None:
        """An earlier event as the store holds it now, for a correction of a record the
        workflow's bounded state no longer keeps (None: no event at that version)."""
        return self.store.correction_target(request.partnership_id, request.version)


def count_recorded(meter: MetricMeter, request: RecordRequest, duplicate: bool) -> None:
    """Amity's counters: a rejected signal's record counts as that command rejected."""
    if duplicate:
        metrics.counter(meter, metrics.COMMANDS_DUPLICATE).add(1, {"command": request.command})
        return
    for event in request.events:
        if event.type == "signal_rejected":
            labels = {"command": event.command, "via": "signal"}
            metrics.counter(meter, metrics.COMMANDS_REJECTED).add(1, labels)
            return
    labels = {"command": request.command, "via": request.via}
    metrics.counter(meter, metrics.COMMANDS_APPLIED).add(1, labels)
