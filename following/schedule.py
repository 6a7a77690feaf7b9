"""When digests go out: at FOLLOW_DIGEST_HOUR (UTC) every day, or every
Monday at that hour for weekly ones. A digest belongs to the slot (period)
it goes out in; its key ("daily:2025-03-14", "weekly:2025-03-10") is what
makes a second send of the same period impossible (``Delivery``)."""

import datetime

from django.conf import settings

from .models import Frequency

PERIODS = {Frequency.DAILY: datetime.timedelta(days=1), Frequency.WEEKLY: datetime.timedelta(days=7)}


def slot_start(frequency, at):
    """The start of the slot ``at`` falls in: the latest digest time ≤ ``at``."""
    at = at.astimezone(datetime.UTC)
    start = at.replace(hour=settings.FOLLOW_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if frequency == Frequency.WEEKLY:
        start -= datetime.timedelta(days=start.weekday())
    if start > at:
        start -= PERIODS[Frequency(frequency)]
    return start


def next_slot(frequency, at):
    """The first digest time strictly after ``at``."""
    return slot_start(frequency, at) + PERIODS[Frequency(frequency)]


def period_key(frequency, at):
    return f"{frequency}:{slot_start(frequency, at).date().isoformat()}"
