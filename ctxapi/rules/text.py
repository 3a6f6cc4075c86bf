"""How the rules write times, days and money: exactly as the rest of the API does.

Times read like Cypher's ``toString(datetime)`` (checked against Neo4j 5.26: seconds always,
a fraction only when not zero and without trailing zeros, ``Z`` for UTC:
``2026-11-23T12:00:00Z``, ``2026-11-23T12:00:00.5Z``, ``2026-11-23T12:00:00.123456Z``,
``2026-11-23T12:00:00+01:00``), so a judged time and a compiled one of the same instant are
the same text.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def cypher_time(at: datetime | None) -> str | None:
    """``toString(datetime)`` as Neo4j writes it."""
    if at is None:
        return None
    text = at.strftime("%Y-%m-%dT%H:%M:%S")
    if at.microsecond:
        text += ("." + f"{at.microsecond:06d}").rstrip("0")
    offset = at.utcoffset() or timedelta()
    if not offset:
        return text + "Z"
    sign = "+" if offset >= timedelta() else "-"
    minutes = abs(int(offset.total_seconds())) // 60
    text += f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    zone = getattr(at.tzinfo, "key", None) or getattr(at.tzinfo, "zone", None)
    return text + f"[{zone}]" if zone else text


def day(at: datetime) -> str:
    """The date of ``at`` (``toString(date(at))``)."""
    return at.date().isoformat()


def days_between(start: datetime, end: datetime) -> int:
    """Whole days from ``start`` to ``end``, cut toward zero (``duration.inDays(…).days``)."""
    seconds = (end - start).total_seconds()
    whole = int(abs(seconds) // 86400)
    return whole if seconds >= 0 else -whole
