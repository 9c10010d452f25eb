"""The business clock: effective dates (when things happened) as instants the timers run on.

A partnership proposed under the effective clock (`PartnershipState.effective_clock`, set
by its first event) runs its terms, renewal notices, expiry, dormancy and talks deadline
from the dates its events carry: the signing date, a renewal's start, the last exchange's
date, the day it was proposed. One recorded today with dates in 2017 is therefore already
past those clocks, and the engine fires them at once. Older partnerships keep the clock
they were started with: the recording time (so their saved histories replay unchanged).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

#: A date may be this much ahead of the engine's UTC day: a signing in the evening in
#: Mianyang (UTC+8) is dated tomorrow while it is still today in UTC.
SLACK = timedelta(days=1)


def start_of(day: date) -> datetime:
    """The instant a day began (UTC): what an event dated that day counts from."""
    return datetime.combine(day, time(), UTC)


def future(what: str, day: date | None, now: datetime) -> str | None:
    """Why `day` cannot be the date of `what` (it has not come yet), or None. For facts
    that are records of something done (a signing, a meeting, an exchange, an approval),
    not for plans (an invitation to next year's summit)."""
    if day is not None and day > (now + SLACK).date():
        return f"{what} {day.isoformat()} is in the future; record it once it has happened"
    return None


def effective_instant(day: date, recorded: datetime) -> datetime:
    """When an event dated `day` took effect: the instant it was recorded if that was on
    the same (UTC) day, so a command sent as it happens starts its clocks as it is sent
    (terms of seconds in tests and demos); else the start of that day."""
    return recorded if recorded.date() == day else start_of(day)
