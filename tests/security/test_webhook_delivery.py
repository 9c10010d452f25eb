"""Attacks on the reminder webhook, each against a real HTTP receiver on this machine.

- a forged reminder: every request carries a Standard Webhooks signature the receiver checks
  with its own code, and the Idempotency-Key it dedupes on;
- a redirect (to steal the body, or to turn the POST into a GET that "succeeds"): not
  followed, never recorded as delivered;
- a receiver that refuses (4xx): not retried; one that is down for a moment (503): retried,
  then delivered;
- a receiver that trickles its answer one byte at a time: cut off at the deadline, inside
  the activity's timeout;
- a webhook URL in clear text to another machine: refused when the worker starts.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.reminders import Delivery, Reminder, ReminderActivities
from activities.webhook import Webhook, WebhookConfigError, parse_secret, sign
from amity import story
from store.application import PartnershipStore
from tests.cli.test_up import AMITY, clean_env, run_main
from tests.security.hardening_support import SECRET, Receiver, receiving
from tests.timeskip import Clock
from worker import build_worker


def reminder() -> Reminder:
    pid = f"partnership-hook-{uuid.uuid4().hex[:8]}"
    return Reminder(
        id=f"{pid}:3",
        partnership_id=pid,
        kind="talks_deadline_passed",
        version=3,
        summary="Mianyang (CN) ↔ Cupertino (US): the talks deadline passed",
        event={"type": "talks_deadline_passed"},
    )


def environment(start_to_close: float = 30) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = replace(
        env.info,
        started_time=datetime.now(UTC),
        start_to_close_timeout=timedelta(seconds=start_to_close),
    )
    return env


def activities(receiver: Receiver, deadline: float = 10) -> ReminderActivities:
    return ReminderActivities(Webhook.configure(receiver.url, SECRET, deadline))


async def deliver(receiver: Receiver, sent: Reminder, start_to_close: float = 30) -> Delivery:
    bound = activities(receiver)
    result: Delivery = await environment(start_to_close).run(bound.deliver_reminder, sent)
    return result


async def test_every_reminder_is_signed_and_carries_its_idempotency_key() -> None:
    sent = reminder()
    with receiving(204) as receiver:
        delivery = await deliver(receiver, sent)
    assert delivery.delivered and delivery.status == 204
    [post] = receiver.posts
    assert post.signature_ok, post.headers
    assert post.headers["webhook-id"] == post.headers["idempotency-key"] == sent.id
    assert abs(int(post.headers["webhook-timestamp"]) - time.time()) < 300  # the spec's window
    assert post.json["id"] == sent.id and post.json["kind"] == "talks_deadline_passed"


def test_signatures_match_the_published_standard_webhooks_vector() -> None:
    """The specification's test vector (its reference libraries all reproduce it): what
    says a receiver's off-the-shelf Standard Webhooks library accepts ours."""
    key = parse_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


async def test_a_forged_signature_would_not_verify() -> None:
    """The receiver's check is real: the same post under another key does not verify."""
    with receiving(204) as receiver:
        receiver.key = b"another-key-of-the-same-length!!"
        await deliver(receiver, reminder())
    assert receiver.posts and not receiver.posts[0].signature_ok


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_a_failed_delivery_and_is_not_followed(status: int) -> None:
    with receiving(status) as receiver, pytest.raises(ApplicationError) as refused:
        await deliver(receiver, reminder())
    assert refused.value.non_retryable and refused.value.type == "WebhookRefused"
    assert f"HTTP {status}" in str(refused.value)
    assert len(receiver.posts) == 1
    assert receiver.other_requests == []  # neither a GET nor a POST to the Location


@pytest.mark.parametrize("status", [400, 401, 404, 410])
async def test_a_refusal_is_not_retried(status: int) -> None:
    with receiving(status) as receiver, pytest.raises(ApplicationError) as refused:
        await deliver(receiver, reminder())
    assert refused.value.non_retryable and refused.value.type == "WebhookRefused"


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_try_again_later_is_retried(status: int) -> None:
    with receiving(status) as receiver, pytest.raises(ApplicationError) as failed:
        await deliver(receiver, reminder())
    assert not failed.value.non_retryable and failed.value.type == "WebhookFailed"


async def test_a_trickling_receiver_is_cut_off_within_the_activity_timeout() -> None:
    with receiving("trickle") as receiver:
        began = time.monotonic()
        with pytest.raises(ApplicationError) as failed:
            # the webhook's deadline is 10 s; the activity's 3 s timeout is the tighter one
            # (wait_for only keeps a broken build from hanging the suite for an hour)
            await asyncio.wait_for(deliver(receiver, reminder(), start_to_close=3), 20)
        took = time.monotonic() - began
        assert failed.value.type == "WebhookTimeout" and not failed.value.non_retryable
        receiver.wait_for(lambda r: r.trickle_cut.is_set(), timeout=10)
    # The receiver sends a byte every 0.2 s for minutes: the bound is the activity's timeout.
    assert took < 3


async def test_slow_receivers_hold_no_store_thread_and_at_most_their_own_slots() -> None:
    """Deliveries are coroutines (they wait without a thread of the store's pool), and a
    worker never has more than `slots` of them waiting: the next is turned away at once
    (and retried by Temporal later), so store writes keep their activity slots."""
    assert inspect.iscoroutinefunction(ReminderActivities.deliver_reminder)
    with receiving("trickle") as receiver:
        bound = ReminderActivities(Webhook.configure(receiver.url, SECRET, 10), slots=1)
        held = asyncio.ensure_future(environment(3).run(bound.deliver_reminder, reminder()))
        await asyncio.to_thread(receiver.wait_for, lambda r: bool(r.posts), 10)
        with pytest.raises(ApplicationError) as busy:
            await asyncio.wait_for(environment(3).run(bound.deliver_reminder, reminder()), 5)
        assert busy.value.type == "WebhookBusy" and not busy.value.non_retryable
        assert len(receiver.posts) == 1  # the second never reached the receiver
        with pytest.raises(ApplicationError):
            await held


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "http://10.0.0.1/hook",
        "http://192.0.2.2:8080/hook",
        "http://127.0.0.1.example.com/hook",
        "ftp://127.0.0.1/hook",
        "https:///nohost",
    ],
)
def test_a_clear_text_or_odd_webhook_url_is_refused(url: str) -> None:
    with pytest.raises(WebhookConfigError) as refused:
        Webhook.configure(url, SECRET)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/amity",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9/hook",
    ],
)
def test_https_anywhere_and_http_to_loopback_are_accepted(url: str) -> None:
    assert Webhook.configure(url, SECRET) is not None


@pytest.mark.parametrize("secret", [None, "", "not-whsec", "whsec_!!!", "whsec_c2hvcnQ="])
def test_a_webhook_without_a_usable_secret_is_refused(secret: str | None) -> None:
    with pytest.raises(WebhookConfigError):
        Webhook.configure("https://hooks.example.com/amity", secret)


def test_worker_and_up_refuse_a_clear_text_webhook_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"AMITY_WEBHOOK_URL": "http://example.com/hook", "AMITY_WEBHOOK_SECRET": SECRET}
    # No Temporal at this address: the webhook is refused before anything connects.
    worker = subprocess.run(
        [AMITY, "worker"],
        env=clean_env(TEMPORAL_ADDRESS="127.0.0.1:1", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert worker.returncode == 2
    assert worker.stderr.strip().splitlines() == [
        "amity: AMITY_WEBHOOK_URL must use https:// (http:// is allowed only to loopback,"
        " not example.com)"
    ]
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        code, _, err = run_main(["up", "--data-dir", str(tmp_path / "var")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "https://" in err
    assert not (tmp_path / "var").exists()  # refused before anything started


# -- through Temporal: the retry policy sees what the activity decided ----------------------


async def deadline_reminder(
    client: Client, store: PartnershipStore, receiver: Receiver, clock: Clock
) -> tuple[Any, str]:
    """A partnership whose talks deadline (60 days, passed on its virtual clock) fires and
    is reminded to `receiver`; its handle and its stage once the reminder has settled (and
    a first retry would be due)."""
    task_queue = f"hook-{uuid.uuid4().hex}"
    async with build_worker(
        client, store, task_queue, threads=4, webhook_url=receiver.url, webhook_secret=SECRET
    ):
        handle = await client.start_workflow(
            "PartnershipWorkflow",
            {**story.proposal(), "policy": {"talks_deadline": "P60D"}},
            id=f"partnership-hook-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await handle.execute_update("open_talks", story.load("open_talks.json"))
        await clock.advance(handle, timedelta(days=61))
        deadline = time.monotonic() + 30
        while await reminder_outcome(handle) == (None, None):
            assert time.monotonic() < deadline, "the reminder activity never settled"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)  # Temporal's first retry would come after 1 s
        return handle, (await handle.query("status"))["stage"]


async def reminder_outcome(handle: Any) -> tuple[Delivery | None, Any]:
    """(the Delivery if the activity completed, the failure if it failed)."""
    events = [e async for e in handle.fetch_history_events()]
    scheduled = {
        e.event_id
        for e in events
        if e.activity_task_scheduled_event_attributes.activity_type.name == "deliver_reminder"
    }
    for event in events:
        done = event.activity_task_completed_event_attributes
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED and (
            done.scheduled_event_id in scheduled
        ):
            payload = done.result.payloads[0]
            return Delivery.model_validate(json.loads(payload.data)), None
        failed = event.activity_task_failed_event_attributes
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED and (
            failed.scheduled_event_id in scheduled
        ):
            return None, failed.failure
    return None, None


@pytest.mark.parametrize("status", [400, 302])
async def test_through_temporal_a_refusal_or_redirect_is_one_attempt_never_delivered(
    client: Client, store: PartnershipStore, clock: Clock, status: int
) -> None:
    with receiving(status) as receiver:
        handle, stage = await deadline_reminder(client, store, receiver, clock)
    delivery, failure = await reminder_outcome(handle)
    assert delivery is None
    assert failure.application_failure_info.non_retryable
    assert failure.application_failure_info.type == "WebhookRefused"
    assert len(receiver.posts) == 1 and receiver.other_requests == []
    assert stage == "in_talks"  # the partnership's life goes on


async def test_through_temporal_a_503_is_retried_then_delivered(
    client: Client, store: PartnershipStore, clock: Clock
) -> None:
    with receiving(503, 200) as receiver:
        handle, _ = await deadline_reminder(client, store, receiver, clock)
    delivery, failure = await reminder_outcome(handle)
    assert failure is None and delivery is not None
    assert delivery.delivered and delivery.status == 200
    assert len(receiver.posts) == 2 and all(p.signature_ok for p in receiver.posts)
    assert len({p.headers["idempotency-key"] for p in receiver.posts}) == 1
