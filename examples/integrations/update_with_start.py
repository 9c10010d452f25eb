"""Create-or-advance a partnership in one call: Temporal's update-with-start.

If no partnership runs under the id, it is started with the proposal and the command is
applied; if one runs, the command is applied to it (id_conflict_policy=USE_EXISTING). Either
way the call returns the partnership's status after the command. Give the command a
`request_id` and the call is safe to retry: a repeat changes nothing and answers the same.

    python examples/integrations/update_with_start.py \\
        --id partnership-mianyang-cupertino \\
        --proposal examples/proposal.json open_talks examples/open_talks.json

Needs only the `temporalio` package; the payloads are plain JSON objects (json/plain).
Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default),
AMITY_TASK_QUEUE (partnerships).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

EXAMPLES = Path(__file__).resolve().parent.parent


async def create_or_advance(
    client: Client,
    partnership_id: str,
    proposal: dict[str, Any],
    command: str,
    payload: dict[str, Any],
    task_queue: str = "partnerships",
) -> dict[str, Any]:
    """Start `partnership_id` with `proposal` unless it runs, then apply `command` as an Update."""
    start = WithStartWorkflowOperation(
        "PartnershipWorkflow",
        proposal,
        id=partnership_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    status: dict[str, Any] = await client.execute_update_with_start_workflow(
        command, payload, start_workflow_operation=start
    )
    return status


def _read(path: str) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected one JSON object")
    return data


async def main(argv: list[str] | None = None, client: Client | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="open_talks")
    parser.add_argument("payload", nargs="?", default=str(EXAMPLES / "open_talks.json"))
    parser.add_argument("--id", default="partnership-mianyang-cupertino")
    parser.add_argument("--proposal", default=str(EXAMPLES / "proposal.json"))
    parser.add_argument("--task-queue", default=os.environ.get("AMITY_TASK_QUEUE", "partnerships"))
    args = parser.parse_args(argv)
    if client is None:
        client = await Client.connect(
            os.environ.get("TEMPORAL_ADDRESS", "localhost:7233"),
            namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"),
        )
    try:
        status = await create_or_advance(
            client,
            args.id,
            _read(args.proposal),
            args.command,
            _read(args.payload),
            args.task_queue,
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        print(f"refused: {getattr(cause, 'message', cause)}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the client's Rust threads can abort it (temporalio/sdk-python#300)
    os._exit(code)
