"""The Mianyang–Cupertino story (the seed article) as a list of commands from `examples/`.

Shared by `amity demo`, the tests and the benchmarks, so all tell the same story.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PARTNERSHIP_ID = "partnership-mianyang-cupertino"

#: (command, example file) in the order the story happened.
STEPS: list[tuple[str, str]] = [
    ("open_talks", "open_talks.json"),
    ("record_meeting", "record_meeting.json"),
    ("draft_memorandum", "draft_memorandum.json"),
    ("record_approval", "record_approval.json"),
    ("sign_memorandum", "sign_memorandum.json"),
    ("extend_invitation", "extend_invitation.json"),
    ("extend_invitation", "extend_invitation_summit.json"),
    ("answer_invitation", "answer_invitation.json"),
    ("record_exchange", "record_exchange.json"),
    ("record_exchange", "record_exchange_expo.json"),
]


def load(name: str) -> dict[str, Any]:
    data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def proposal() -> dict[str, Any]:
    return load("proposal.json")


def steps(without_request_ids: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """The story's commands. The example files carry no request id (the CLI or the
    workflow makes one); `without_request_ids` drops any a caller's copy of them has."""
    result = []
    for command, file in STEPS:
        payload = load(file)
        if without_request_ids:
            payload.pop("request_id", None)
        result.append((command, payload))
    return result
