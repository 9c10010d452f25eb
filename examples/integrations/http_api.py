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

Safe to retry: a signal carries a `request_id` for Temporal (the same request_id is
delivered once) and the payload's own `request_id` makes Amity apply a command once;
an update's id is derived from the payload's `request_id`, so a retried update returns the
first one's result. Environment: TEMPORAL_HTTP (http://localhost:7243), TEMPORAL_NAMESPACE.
"""

from __future__ import annotations

import base64
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
        """Send a signal; `request_id` (default: the payload's) lets Temporal drop a repeat."""
        body = {
            "input": {"payloads": [payload(value)]},
            "identity": "http-api-example",
            "requestId": request_id or value.get("request_id") or str(uuid.uuid4()),
        }
        return self.post(self._url(workflow_id, "signal", name), body)

    def update(self, workflow_id: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
        """Run an update and wait for it: the new status, or HttpApiError with the refusal."""
        update_id = str(value.get("request_id") or uuid.uuid4())
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
