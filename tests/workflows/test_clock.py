"""The business clock on the real dev server: terms, renewal notices, expiry and dormancy run
from effective dates (the signing date, the last exchange's date), so a clock already past
when the event is recorded fires at once; dates that cannot have happened yet are refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError

from amity import story
from tests.conftest import Engine
from tests.timeskip import Clock
from tests.workflows.test_timers import Receiver, proposal_with, receiver, timed, types

__all__ = ["receiver", "timed"]  # fixtures used below

TODAY = datetime.now(UTC).date()


async def signed_on(engine: Engine, day: date, **policy: str) -> Any:
    """The story up to its signing, signed on `day`, with `policy`."""
    handle = await engine.start(
        proposal_with(**policy), f"partnership-clock-{uuid.uuid4().hex[:8]}"
    )
    for command, payload in story.steps()[:5]:
        if command == "sign_memorandum":
            payload = {**payload, "date": day.isoformat()}
        await handle.execute_update(command, payload)
    return handle


async def test_the_seed_signed_in_2017_with_a_two_year_term_expires_at_once_with_reminders(
    timed: Engine, receiver: Receiver
) -> None:
    handle = await signed_on(timed, date(2017, 11, 15), term="P2Y", renewal_notice="P60D")
    final = await asyncio.wait_for(handle.result(), timeout=20)
    assert final["stage"] == "expired"
    assert final["expires_on"] == "2019-11-15T00:00:00Z"  # the signing date + 730 days
    assert types(timed, handle.id)[-3:] == ["memorandum_signed", "renewal_due", "expired"]
    for _ in range(200):  # the receiver fails twice first; Temporal retries
        if {body["kind"] for body in receiver.seen.values()} == {"renewal_due", "expired"}:
            break
        await asyncio.sleep(0.1)
    assert sorted(body["kind"] for body in receiver.seen.values()) == ["expired", "renewal_due"]


async def test_signed_23_months_ago_is_due_for_renewal_now_and_expires_a_month_later(
    engine: Engine, clock: Clock
) -> None:
    day = TODAY - timedelta(days=700)  # P2Y is 730 days: 30 days left, inside the notice
    handle = await signed_on(engine, day, term="P2Y", renewal_notice="P60D")
    for _ in range(100):
        status = await handle.query("status")
        if status["version"] >= 7:
            break
        await asyncio.sleep(0.1)
    assert status["stage"] == "active"
    assert types(engine, handle.id)[-1] == "renewal_due"
    expires = datetime.combine(day + timedelta(days=730), datetime.min.time(), UTC)
    assert status["expires_on"] == expires.isoformat().replace("+00:00", "Z")
    # the expiry is a durable timer, due in about 30 days (not 730 from today)
    timers: list[timedelta] = []
    for _ in range(100):  # started in the workflow task after the reminder's
        history = await handle.fetch_history()
        timers = [
            e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        ]
        if timers:
            break
        await asyncio.sleep(0.1)
    assert timers and timedelta(days=29) < timers[-1] <= timedelta(days=30)
    # and a month later on its virtual clock (tests/timeskip.py) it has expired, on that day
    await clock.advance(handle, timedelta(days=31))
    final = await asyncio.wait_for(handle.result(), timeout=20)
    assert final["stage"] == "expired" and final["expires_on"] == status["expires_on"]
    [expired] = [s.event for s in engine.store.history(handle.id) if s.event.type == "expired"]
    assert expired.at.date() == expires.date()


async def test_dormancy_counts_from_the_last_exchange_date(engine: Engine) -> None:
    exchange = story.load("record_exchange_expo.json")  # dated 2018-11-15
    handle = await engine.start(
        proposal_with(dormant_after="P365D"), f"partnership-clock-{uuid.uuid4().hex[:8]}"
    )
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    await handle.execute_update("record_exchange", exchange)
    for _ in range(100):
        if (await handle.query("status"))["stage"] == "dormant":
            break
        await asyncio.sleep(0.1)
    stored = engine.store.history(handle.id)
    assert stored[-1].event.type == "became_dormant"
    assert stored[-1].event.idle_since == datetime(2018, 11, 15, tzinfo=UTC)  # type: ignore[union-attr]


async def test_a_signing_next_year_is_refused_an_invitation_to_next_years_summit_is_not(
    engine: Engine,
) -> None:
    next_year = TODAY.replace(year=TODAY.year + 1, day=min(TODAY.day, 28))
    handle = await engine.start(story.proposal(), f"partnership-clock-{uuid.uuid4().hex[:8]}")
    for command, payload in story.steps()[:4]:
        await handle.execute_update(command, payload)
    signing = {**story.load("sign_memorandum.json"), "date": next_year.isoformat()}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("sign_memorandum", signing)
    assert "in the future" in str(refused.value.cause)
    invitation = {**story.load("extend_invitation_summit.json"), "date": next_year.isoformat()}
    result = await handle.execute_update("extend_invitation", invitation)
    assert result["invitations"][-1]["date"] == next_year.isoformat()

    dated = {**story.proposal(), "date": next_year.isoformat()}
    failing = await engine.start(dated, f"partnership-clock-{uuid.uuid4().hex[:8]}")
    with pytest.raises(WorkflowFailureError) as failed:
        await failing.result()
    assert "in the future" in str(failed.value.cause)
