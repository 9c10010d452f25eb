"""A partnership with years in it: the story told from autumn 2017 to spring 2018, dormant
from June 2019, nothing at all in 2020, woken by an exchange in 2021, one more in 2022
(every event decided on a date of our choosing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from amity import story
from domain.decider import decide
from domain.parsing import parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.mark_dormant import MarkDormant
from domain.slices.propose import decide_proposal
from store.application import CommandMeta, PartnershipStore

START = datetime(2017, 10, 1, 9, 0, tzinfo=UTC)
#: When the partnership goes dormant, and when an exchange wakes it up again.
DORMANT_AT = datetime(2019, 6, 1, 9, 0, tzinfo=UTC)
WOKEN_AT = datetime(2021, 2, 10, 9, 0, tzinfo=UTC)
LATER = [datetime(2021, 9, 2, 9, 0, tzinfo=UTC), datetime(2022, 4, 20, 9, 0, tzinfo=UTC)]


def _exchange(day: datetime, title: str, field: str) -> dict[str, Any]:
    return {
        **story.load("record_exchange.json"),
        "date": f"{day:%Y-%m-%d}",
        "title": title,
        "field": field,
        "request_id": f"exchange-{day:%Y%m%d}",
    }


def _append(
    store: PartnershipStore, pid: str, name: str, payload: dict[str, Any], now: datetime
) -> int:
    state = store.state(pid)
    assert state is not None
    command = parse_command(name, payload) if name != "mark_dormant" else MarkDormant()
    decision = decide(state, command, now)
    assert not isinstance(decision, Rejection), decision
    request = f"{pid}:{state.version + 1}"  # one per append: never reused for other data
    meta = CommandMeta(name, "tester", request, pid, "run-1")
    return store.append(pid, decision, meta, state.version).version


def tell_long_story(
    store: PartnershipStore, pid: str, proposal: dict[str, Any] | None = None
) -> list[datetime]:
    """Append the long story for `pid`; returns the decision date of every event in order."""
    # The seed's dormancy period (examples/proposal.json has none: see test_clock.py).
    proposal = dict(proposal or story.proposal())
    proposal["policy"] = {"dormant_after": "P365D", **proposal.get("policy", {})}
    proposed = parse_proposal(proposal)
    meta = CommandMeta("propose", "tester", f"propose:{pid}", pid, "run-1")
    store.append(pid, decide_proposal(pid, proposed, START), meta, None)
    when = START
    for name, payload in story.steps():
        when += timedelta(days=21)
        _append(store, pid, name, payload, when)
    _append(store, pid, "mark_dormant", {}, DORMANT_AT)
    _append(store, pid, "record_exchange", _exchange(WOKEN_AT, "Expo again", "trade"), WOKEN_AT)
    for day in LATER:
        _append(store, pid, "record_exchange", _exchange(day, f"Visit {day:%Y}", "culture"), day)
    return [stored.event.at for stored in store.history(pid)]
