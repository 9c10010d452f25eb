"""Send commands to a partnership through Temporal's HTTP API, with only the standard library.

Temporal's frontend serves its gRPC API as JSON over HTTP too (`temporal server start-dev
--http-port 7243`; a production frontend on its HTTP port). The routes used here:

    POST /api/v1/namespaces/{namespace}/workflows/{workflow_id}/signal/{signal_name}
    POST /api/v1/namespaces/{namespace}/workflows/{workflow_id}/update/{update_name}
    POST /api/v1/namespaces/{namespace}/workflows/{workflow_id}/query/{query_name}

Every input is one payload: `{"metadata": {"encoding": base64("json/plain")},
"data": base64(the JSON object)}`. Results come back as plain JSON.

    python examples/integrations/http_api.py signal partnership-mianyang-cupertino \\
        record_meeting examples/record_meeting.json
    python examples/integrations/http_api.py update partnership-mianyang-cupertino \\
        draft_memorandum examples/draft_memorandum.json
    python examples/integrations/http_api.py query partnership-mianyang-cupertino status

A payload without a `request_id` is given a new one, printed on stderr (`request_id
...`): resend the payload with that id and Amity applies it once. Temporal's own ids (a
signal's requestId, an update's updateId) are that request_id plus a hash of the command
and payload, so Temporal drops an exact repeat, while the same request_id on other data
reaches Amity, which refuses it ("request_id ... was already used for ... with a different
payload") instead of Temporal answering it with the first one's result.
Environment: TEMPORAL_HTTP (http://localhost:7243), TEMPORAL_NAMESPACE.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

JSON_PLAIN = base64.b64encode(b"json/plain").decode()
COMPLETED = "UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED"


class HttpApiError(RuntimeError):
    """Temporal answered with an error (status and message), or the update was refused."""


def payload(value: Any) -> dict[str, Any]:
    """One json/plain payload as the HTTP API wants it (metadata and data in base64)."""
    data = json.dumps(value, ensure_ascii=False).encode()
    return {"metadata": {"encoding": JSON_PLAIN}, "data": base64.b64encode(data).decode()}


def with_request_id(value: dict[str, Any]) -> dict[str, Any]:
    """`value` with a request_id: its own, or a new one (keep it to resend the command)."""
    if value.get("request_id"):
        return value
    return {**value, "request_id": f"http-{uuid.uuid4()}"}


def temporal_id(name: str, value: dict[str, Any]) -> str:
    """Temporal's id for sending `value` as `name`: the same for an exact repeat only."""
    canonical = json.dumps([name, value], sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"{value.get('request_id') or uuid.uuid4()}-{digest}"


class TemporalHttp:
    def __init__(self, base_url: str | None = None, namespace: str | None = None) -> None:
        self.base_url = (
            base_url or os.environ.get("TEMPORAL_HTTP", "http://localhost:7243")
        ).rstrip("/")
        self.namespace = namespace or os.environ.get("TEMPORAL_NAMESPACE", "default")

    def _url(self, workflow_id: str, kind: str, name: str) -> str:
        return (
            f"{self.base_url}/api/v1/namespaces/{quote(self.namespace, safe='')}"
            f"/workflows/{quote(workflow_id, safe='')}/{kind}/{quote(name, safe='')}"
        )

    def post(self, url: str, body: dict[str, Any], timeout: float = 70.0) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's Temporal
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                answer: dict[str, Any] = json.loads(response.read() or b"{}")
                return answer
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                message = json.loads(text).get("message", text)
            except ValueError:
                message = text
            raise HttpApiError(f"HTTP {error.code}: {message}") from None

    def signal(
        self, workflow_id: str, name: str, value: dict[str, Any], request_id: str | None = None
    ) -> dict[str, Any]:
        """Send a signal; Temporal drops a repeat with the same `request_id` (by default
        the payload's request_id and a hash of the payload)."""
        body = {
            "input": {"payloads": [payload(value)]},
            "identity": "http-api-example",
            "requestId": request_id or temporal_id(name, value),
        }
        return self.post(self._url(workflow_id, "signal", name), body)

    def update(self, workflow_id: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
        """Run an update and wait for it: the new status, or HttpApiError with the refusal."""
        update_id = temporal_id(name, value)
        body = {
            "request": {
                "meta": {"updateId": update_id, "identity": "http-api-example"},
                "input": {"args": {"payloads": [payload(value)]}},
            },
            "waitPolicy": {"lifecycleStage": COMPLETED},
        }
        answer = self.post(self._url(workflow_id, "update", name), body)
        outcome = answer.get("outcome", {})
        if "failure" in outcome:
            raise HttpApiError(f"refused: {outcome['failure'].get('message', outcome['failure'])}")
        success = outcome.get("success")
        if not success:
            raise HttpApiError(f"update {update_id} did not complete: {answer}")
        result: dict[str, Any] = _decode_first(success)
        return result

    def query(self, workflow_id: str, name: str = "status") -> dict[str, Any]:
        answer = self.post(self._url(workflow_id, "query", name), {"query": {}})
        result: dict[str, Any] = _decode_first(answer["queryResult"])
        return result


def _decode_first(payloads: Any) -> Any:
    """The first value of a Payloads object: plain JSON (the server's shorthand) or base64."""
    if isinstance(payloads, dict) and "payloads" in payloads:
        payloads = payloads["payloads"]
    first = payloads[0]
    if isinstance(first, dict) and set(first) <= {"metadata", "data"} and "data" in first:
        return json.loads(base64.b64decode(first["data"]))
    return first


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[0] not in {"signal", "update", "query"}:
        print(
            "usage: http_api.py signal|update|query WORKFLOW_ID NAME [FILE.json]", file=sys.stderr
        )
        return 2
    action, workflow_id, name = args[:3]
    value: dict[str, Any] = {}
    if len(args) > 3:
        value = json.loads(Path(args[3]).read_text(encoding="utf-8"))
    if action != "query":
        value = with_request_id(value)
        print(f"request_id {value['request_id']}", file=sys.stderr)
    api = TemporalHttp()
    try:
        if action == "signal":
            result = api.signal(workflow_id, name, value)
        elif action == "update":
            result = api.update(workflow_id, name, value)
        else:
            result = api.query(workflow_id, name)
    except (HttpApiError, urllib.error.URLError) as error:
        print(str(error), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
