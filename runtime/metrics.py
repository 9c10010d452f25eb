"""Observability of a worker: Prometheus metrics and structured (JSON) logs.

One endpoint, `http://AMITY_METRICS_HOST:AMITY_METRICS_PORT/metrics` (loopback unless set),
serves both:
- Amity's own metrics (prometheus-client): commands applied, rejected signals recorded,
  repeats recognised, store conflicts, the append latency histogram;
- Temporal's runtime metrics (workflow/activity task latencies, pollers, sticky cache...),
  which the SDK's Rust core exports on an internal loopback port; the endpoint appends them.

Refused updates never reach an activity (the workflow's validator refuses them before
anything is recorded); the worker counts them with an interceptor (see worker.py).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import perf_counter
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from temporalio import workflow
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from runtime.redact import ScrubSecrets

COMMANDS_APPLIED = Counter(
    "amity_commands_applied",
    "Commands whose events were appended to the event store",
    ["command", "via"],
)
COMMANDS_REJECTED = Counter(
    "amity_commands_rejected",
    "Commands refused: updates refused by the validator, signals recorded as rejected",
    ["command", "via"],
)
COMMANDS_DUPLICATE = Counter(
    "amity_commands_duplicate",
    "Repeated commands (same request_id) recognised and not written again",
    ["command"],
)
STORE_CONFLICTS = Counter(
    "amity_store_conflicts",
    "Appends refused by the store's optimistic concurrency (another writer was first)",
)
APPEND_SECONDS = Histogram(
    "amity_append_seconds",
    "Time to append one command's events to the event store",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)


@contextmanager
def timed_append() -> Iterator[None]:
    began = perf_counter()
    try:
        yield
    finally:
        APPEND_SECONDS.observe(perf_counter() - began)


def exposition(temporal_url: str | None) -> bytes:
    """Amity's metrics, then Temporal's runtime metrics (if they answer within 2 s)."""
    body = generate_latest(REGISTRY)
    if temporal_url:
        try:
            with urllib.request.urlopen(temporal_url, timeout=2) as reply:  # noqa: S310 - loopback
                body += b"\n" + reply.read()
        except OSError:
            body += b"\n# Temporal runtime metrics unavailable\n"
    return body


class MetricsServer:
    """A small threaded HTTP server for GET /metrics (and / for a health probe)."""

    def __init__(self, port: int, host: str = "127.0.0.1", temporal_url: str | None = None) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404)
                    return
                body = exposition(outer.temporal_url) if self.path != "/" else b"ok\n"
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.temporal_url = temporal_url
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> MetricsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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
            workflow.metric_meter().create_counter(
                "amity_updates_refused", "Updates refused by the validator (nothing recorded)"
            ).add(1, {"command": input.update})
            raise


class RefusalCounter(Interceptor):
    """Counts updates the workflow's validator refuses."""

    def workflow_interceptor_class(
        self,
        input: WorkflowInterceptorClassInput,
    ) -> type[WorkflowInboundInterceptor] | None:
        return _CountRefusals
