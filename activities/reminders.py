"""Reminders to people: delivered to an outbound webhook (AMITY_WEBHOOK_URL) as JSON.

The reminder's `id` is stable across retries (partnership id and event version) and is
sent as `webhook-id` and `Idempotency-Key`, so a receiver can drop repeats; every request
is signed (activities/webhook.py). Temporal retries a failed delivery with backoff; an
answer that retrying cannot change (a redirect, a 4xx other than 408/429) fails the
delivery at once. Without a webhook the reminder is only recorded (the event is in the
store either way).

The activity is async: it waits on the network without holding one of the store's threads,
and at most `slots` deliveries are in flight per worker (more are turned away at once and
retried later), so a slow or hostile receiver can never take the capacity store writes need.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.webhook import Webhook, WebhookTimeout

#: Deliveries in flight per worker; the worker adds as many activity slots for them.
REMINDER_SLOTS = 8
#: Left of the activity's start-to-close timeout when the delivery's deadline passes, so the
#: activity reports the timeout itself (and releases its slot) before Temporal gives up on it.
MARGIN_SECONDS = 1.0
#: Answers that say "try again later".
RETRY_LATER = frozenset({408, 429})


class Reminder(BaseModel):
    """What the receiver gets: `id` is the dedupe key."""

    id: str
    partnership_id: str
    kind: str
    version: int
    summary: str
    event: dict[str, object]


class Delivery(BaseModel):
    delivered: bool
    status: int | None = None
    detail: str


def refused(reminder: Reminder, detail: str) -> ApplicationError:
    """A failed delivery that retrying cannot change (the workflow records it and goes on)."""
    return ApplicationError(
        f"webhook refused reminder {reminder.id}: {detail}",
        type="WebhookRefused",
        non_retryable=True,
    )


def failed(reminder: Reminder, detail: str, kind: str) -> ApplicationError:
    """A failed delivery worth retrying (Temporal backs off)."""
    return ApplicationError(f"reminder {reminder.id} not delivered: {detail}; retrying", type=kind)


def time_left() -> float | None:
    """Seconds until this attempt's start-to-close timeout, less a margin (None: no limit)."""
    info = activity.info()
    if info.start_to_close_timeout is None:
        return None
    ends = info.started_time + info.start_to_close_timeout
    return max(0.1, (ends - datetime.now(UTC)).total_seconds() - MARGIN_SECONDS)


class ReminderActivities:
    """Bound to one webhook (None: record only)."""

    def __init__(self, webhook: Webhook | None, slots: int = REMINDER_SLOTS) -> None:
        self.webhook = webhook
        self.slots = slots
        self._in_flight = 0

    @activity.defn(name="deliver_reminder")
    async def deliver_reminder(self, reminder: Reminder) -> Delivery:
        if self.webhook is None:
            return Delivery(delivered=False, detail="no webhook configured: recorded only")
        if self._in_flight >= self.slots:
            raise failed(reminder, f"{self.slots} deliveries already in flight", "WebhookBusy")
        self._in_flight += 1
        try:
            status = await self._post(self.webhook, reminder)
        finally:
            self._in_flight -= 1
        if 200 <= status < 300:
            return Delivery(delivered=True, status=status, detail="delivered")
        if 300 <= status < 400:
            raise refused(
                reminder,
                f"HTTP {status} (a redirect; redirects are not followed: set AMITY_WEBHOOK_URL"
                " to the final address)",
            )
        if 400 <= status < 500 and status not in RETRY_LATER:
            raise refused(reminder, f"HTTP {status}")
        raise failed(reminder, f"the webhook answered HTTP {status}", "WebhookFailed")

    async def _post(self, webhook: Webhook, reminder: Reminder) -> int:
        body = json.dumps(reminder.model_dump(mode="json"), ensure_ascii=False).encode()
        try:
            return await webhook.post(reminder.id, body, deadline=time_left())
        except WebhookTimeout as error:
            raise failed(reminder, str(error), "WebhookTimeout") from None
        except (httpx.HTTPError, OSError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise failed(
                reminder, f"webhook unreachable ({reason})", "WebhookUnreachable"
            ) from None
