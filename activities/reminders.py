"""Reminders to people: delivered to an outbound webhook (AMITY_WEBHOOK_URL) as JSON.

The reminder's `id` is stable across retries (partnership id and event version), so a
receiver can drop repeats; Temporal retries a failed delivery with backoff. Without a
webhook the reminder is only recorded (the event is in the store either way).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError


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


class ReminderActivities:
    """Bound to one webhook URL (None: record only)."""

    def __init__(self, webhook_url: str | None, timeout: float = 10.0) -> None:
        self.webhook_url = webhook_url
        self.timeout = timeout

    @activity.defn(name="deliver_reminder")
    def deliver_reminder(self, reminder: Reminder) -> Delivery:
        if not self.webhook_url:
            return Delivery(delivered=False, detail="no webhook configured: recorded only")
        body = json.dumps(reminder.model_dump(mode="json"), ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - the operator configures the URL
            self.webhook_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": reminder.id,
                "User-Agent": "amity-reminders",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code not in (408, 409, 425, 429):
                raise ApplicationError(
                    f"webhook refused reminder {reminder.id}: HTTP {error.code}",
                    type="WebhookRefused",
                    non_retryable=True,
                ) from None
            raise RuntimeError(f"webhook answered HTTP {error.code}; retrying") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise RuntimeError(f"webhook unreachable: {error}; retrying") from None
        return Delivery(delivered=True, status=status, detail="delivered")
