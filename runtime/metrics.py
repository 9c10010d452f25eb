"""Observability of a worker: Prometheus metrics and structured (JSON) logs.

One endpoint, `http://AMITY_METRICS_HOST:AMITY_METRICS_PORT/metrics` (loopback unless set),
served by the Temporal SDK's runtime (its Rust core). Amity's own metrics are made through
the same meter (`activity.metric_meter()` in the store activity, `workflow.metric_meter()`
for refused updates), so one scrape returns both:
- Amity's: commands applied, rejected signals recorded, repeats recognised, store conflicts,
  refused updates, the append latency histogram (names below);
- Temporal's: workflow/activity task latencies, pollers, sticky cache, requests (`temporal_*`).

Counters carry `_total` (OpenMetrics) and durations are seconds. A series appears once it
has a first value; every one also carries the SDK's labels (`service_name`, and for the
activity's `namespace`, `task_queue`, `activity_type`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from time import perf_counter
from typing import Any, NamedTuple

from temporalio import workflow
from temporalio.common import MetricCounter, MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from runtime.redact import ScrubSecrets


class Metric(NamedTuple):
    """One of Amity's metrics: its name as exported (counters gain `_total`) and its help."""

    name: str
    description: str


COMMANDS_APPLIED = Metric(
    "amity_commands_applied", "Commands whose events were appended to the event store"
)
COMMANDS_REJECTED = Metric(
    "amity_commands_rejected", "Signals refused and recorded as rejected (label via=signal)"
)
COMMANDS_DUPLICATE = Metric(
    "amity_commands_duplicate",
    "Repeated commands (same request_id) recognised and not written again",
)
STORE_CONFLICTS = Metric(
    "amity_store_conflicts",
    "Appends refused by the store's optimistic concurrency (another writer was first)",
)
UPDATES_REFUSED = Metric(
    "amity_updates_refused", "Updates refused by the validator (nothing recorded)"
)
APPEND_SECONDS = Metric(
    "amity_append_seconds", "Time to append one command's events to the event store"
)
APPEND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def counter(meter: MetricMeter, metric: Metric) -> MetricCounter:
    return meter.create_counter(metric.name, metric.description)


@contextmanager
def timed_append(meter: MetricMeter) -> Iterator[None]:
    began = perf_counter()
    try:
        yield
    finally:
        meter.create_histogram_float(APPEND_SECONDS.name, APPEND_SECONDS.description, "s").record(
            perf_counter() - began
        )


class MetricsUnavailable(RuntimeError):  # noqa: N818 - reads as the situation it names
    """The endpoint cannot listen where it was told to (the reason is the system's)."""


def metrics_runtime(host: str, port: int) -> Runtime:
    """A Temporal runtime whose meter is exported on `host:port` (/metrics): the SDK's
    metrics and Amity's on the one endpoint. MetricsUnavailable if it cannot listen."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=address,
                    counters_total_suffix=True,
                    durations_as_seconds=True,
                    histogram_bucket_overrides={APPEND_SECONDS.name: APPEND_BUCKETS},
                )
            )
        )
    except ValueError as error:  # "Failed starting Prometheus exporter: <the OS's reason>"
        reason = str(error).rsplit(": ", 1)[-1]
        raise MetricsUnavailable(re.sub(r" \(os error \d+\)$", "", reason)) from None


# -- structured logs ------------------------------------------------------------------------

#: Attributes every LogRecord has; anything else was passed as `extra`.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, workflow_id, run_id,
    request_id and any other `extra` fields (Temporal's activity/workflow details)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
        temporal = extra.pop("temporal_activity", None) or extra.pop("temporal_workflow", None)
        if isinstance(temporal, dict):
            line["workflow_id"] = temporal.get("workflow_id")
            line["run_id"] = temporal.get("workflow_run_id") or temporal.get("run_id")
            for key in ("activity_type", "workflow_type", "attempt", "task_queue"):
                if key in temporal:
                    line[key] = temporal[key]
        line.update(extra)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:  # already formatted (and scrubbed of secrets)
            line["error"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(
    fmt: str = "text", level: int = logging.INFO, secrets: Iterable[str] = ()
) -> None:
    """One handler on stderr; its records lose the process's secret values (a library's
    error may quote a connection string)."""
    handler = logging.StreamHandler()
    handler.addFilter(ScrubSecrets(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# -- refused updates --------------------------------------------------------------------------


class _CountRefusals(WorkflowInboundInterceptor):
    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        try:
            super().handle_update_validator(input)
        except Exception:
            # Temporal's workflow metric meter: skipped on replay, exported with the
            # runtime's metrics (the same endpoint).
            counter(workflow.metric_meter(), UPDATES_REFUSED).add(1, {"command": input.update})
            raise


class RefusalCounter(Interceptor):
    """Counts updates the workflow's validator refuses."""

    def workflow_interceptor_class(
        self,
        input: WorkflowInterceptorClassInput,
    ) -> type[WorkflowInboundInterceptor] | None:
        return _CountRefusals
