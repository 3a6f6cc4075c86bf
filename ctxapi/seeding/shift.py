"""Moving an export's times: how ``make run`` keeps the demo stories current.

The demo stories (seed/demo) were written on one day, ``DEMO_NOW``. ``ctxapi run`` loads them
with every time moved by the distance from that day to now, so the late parcel is late *today*,
the case has been open twelve days *now*, and a newcomer in a month sees the same stories.
Only validated values move (marshmallow's dates and times, nested ones too), never text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

#: The moment the demo stories were written for (their "now": tests read them on this day).
DEMO_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def distance(source_now: datetime, now: datetime) -> timedelta:
    """How far to move an export written at ``source_now`` to read the same at ``now``, in
    whole minutes (so times stay readable)."""
    return timedelta(minutes=round((now - source_now).total_seconds() / 60))


def demo_distance(now: str) -> timedelta:
    """How far the demo stories move to read at ``now`` (ISO) as on the day they were written."""
    return distance(DEMO_NOW, datetime.fromisoformat(now))


def shifted(value: Any, by: timedelta) -> Any:
    """``value`` with every date and time in it moved by ``by`` (dates by its whole days)."""
    if isinstance(value, datetime):
        return value + by
    if isinstance(value, date):
        return value + timedelta(days=round(by / timedelta(days=1)))
    if isinstance(value, dict):
        return {key: shifted(item, by) for key, item in value.items()}
    if isinstance(value, list):
        return [shifted(item, by) for item in value]
    return value
