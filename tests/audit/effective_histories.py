"""Random legal histories whose effective order is not their recorded order: back-dated
and out-of-order dates, date corrections (a signing moved after its exchanges), engine
events on policy clocks, a policy corrected after the fact, undated commands. Each is
decided by the domain and appended through the store, as the workflow would."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from amity import story
from domain.decider import decide
from domain.messages import Command
from domain.parsing import parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.expire import Expire
from domain.slices.mark_dormant import MarkDormant
from domain.slices.note_renewal_due import NoteRenewalDue
from domain.slices.note_talks_deadline import NoteTalksDeadline
from domain.slices.propose import decide_proposal
from store.application import CommandMeta, PartnershipStore

#: The people's commands are decided on this day (their dates are before it)...
PEOPLE_NOW = datetime(2025, 6, 1, tzinfo=UTC)
#: ...the engine's later, so every clock of the story has run out by then.
ENGINE_NOW = datetime(2045, 1, 1, tzinfo=UTC)
FIRST_DAY = date(2016, 1, 1)
DAYS = 9 * 365


def a_day(rng: random.Random) -> str:
    return (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat()


def _story(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """The story's commands with their dates drawn at random (some left out)."""
    steps = []
    for name, payload in story.steps():
        if "date" in payload and name != "extend_invitation":
            if name in ("record_meeting", "record_exchange", "sign_memorandum"):
                payload["date"] = a_day(rng)
            elif rng.random() < 0.3:
                del payload["date"]
            else:
                payload["date"] = a_day(rng)
        elif name in ("open_talks", "draft_memorandum") and rng.random() < 0.6:
            payload["date"] = a_day(rng)
        steps.append((name, payload))
    return steps


def _extra(rng: random.Random, versions: dict[str, list[int]], proposed: int) -> Command | None:
    """One more command: an exchange, a meeting, a date or policy correction, an engine
    timer, a renewal or an invitation."""
    roll = rng.random()
    exchange = story.load("record_exchange.json")
    if roll < 0.25:
        return parse_command("record_exchange", {**exchange, "date": a_day(rng)})
    if roll < 0.32:
        return parse_command(
            "record_meeting", {**story.load("record_meeting.json"), "date": a_day(rng)}
        )
    if roll < 0.52:
        dated = [
            v
            for t in ("meeting_recorded", "exchange_recorded", "memorandum_signed")
            for v in versions.get(t, [])
        ]
        if dated:
            return parse_command(
                "correct",
                {
                    "target_version": rng.choice(dated),
                    "reason": "the date was mistyped",
                    "correction": {"date": a_day(rng)},
                },
            )
        return None
    if roll < 0.58:
        timer = rng.choice(["renewal_notice", "dormant_after"])
        return parse_command(
            "correct",
            {
                "target_version": proposed,
                "reason": "the council set another timer",
                "correction": {"policy": {timer: f"P{rng.randrange(20, 400)}D"}},
            },
        )
    if roll < 0.75:
        return rng.choice([MarkDormant(), NoteRenewalDue(), Expire(), NoteTalksDeadline()])
    if roll < 0.82:
        payload: dict[str, Any] = {"term": "P2Y", "reference": "renewed"}
        if rng.random() < 0.7:
            payload["date"] = a_day(rng)
        return parse_command("renew", payload)
    if roll < 0.9:
        return parse_command(
            "extend_invitation", {**story.load("extend_invitation.json"), "date": a_day(rng)}
        )
    return None


def write_history(store: PartnershipStore, pid: str, rng: random.Random, extra: int) -> int:
    """A random history for `pid`: the story (dates drawn), then `extra` more commands
    mixed in at random; each decided and appended. Returns the last version."""
    proposal = story.proposal()
    proposal["policy"] = {
        "talks_deadline": f"P{rng.randrange(100, 1500)}D",
        "dormant_after": f"P{rng.randrange(60, 700)}D",
        "term": f"P{rng.randrange(1, 4)}Y",
        "renewal_notice": f"P{rng.randrange(10, 200)}D",
    }
    if rng.random() < 0.7:
        proposal["date"] = a_day(rng)
    events = decide_proposal(pid, parse_proposal(proposal), PEOPLE_NOW)
    meta = CommandMeta("propose", "tester", f"{pid}:propose", pid, "run-1")
    version = store.append(pid, events, meta, None).version
    versions: dict[str, list[int]] = {"proposed": [1]}
    planned: list[tuple[str, dict[str, Any]] | None] = list(_story(rng))
    for _ in range(extra):  # None: one more command, drawn when its turn comes
        planned.insert(rng.randrange(len(planned) + 1), None)
    requests: list[str] = []
    for number, step in enumerate(planned):
        try:
            command = _extra(rng, versions, 1) if step is None else parse_command(*step)
        except ValueError:  # a drawn payload the model refuses
            continue
        if command is None:
            continue
        now = ENGINE_NOW if type(command).__name__ in ENGINE else PEOPLE_NOW
        state = store.state(pid)
        assert state is not None
        decision = decide(state, command, now)
        if isinstance(decision, Rejection):
            continue
        # Now and then a request id used before (a client that reuses them: the store only
        # looks for a resend after the version the command expected), so that one "command"
        # has events far apart, dated ones among them.
        request = rng.choice(requests) if requests and rng.random() < 0.2 else f"{pid}:{number}"
        requests.append(request)
        meta = CommandMeta(type(command).__name__, "tester", request, pid, "run-1")
        version = store.append(pid, decision, meta, state.version).version
        for offset, event in enumerate(decision):
            versions.setdefault(event.type, []).append(version - len(decision) + 1 + offset)
    return version


ENGINE = {"MarkDormant", "NoteRenewalDue", "Expire", "NoteTalksDeadline"}
