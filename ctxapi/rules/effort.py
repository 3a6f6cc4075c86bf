"""Customer effort: how hard the customer has had to work to get help."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from ctxapi.model import InteractionStatus, Level
from ctxapi.rules.facts import Case, Contact, Facts
from ctxapi.thresholds import Thresholds

#: The effort score's parts (docs/insights.md): weight, and the count at which a part is full.
CONTACTS_PER_CASE = (0.30, 4.0)  # 0 at one contact per case, full at 4
SWITCHES = (0.25, 3)
REPEATS = (0.20, 2)
SELF_SERVICE_TO_AGENT = (0.15, 2)
UNANSWERED = 0.10


def switches(case: Case) -> int:
    """Times the case moved to another channel between consecutive contacts."""
    contacts = case.contacts
    return sum(1 for a, b in pairwise(contacts) if a.channel != b.channel)


def self_service_to_agent(case: Case) -> bool:
    """The case began in self-service and needed a person."""
    contacts = case.contacts
    return (
        len(contacts) > 1 and contacts[0].self_service and any(not c.self_service for c in contacts)
    )


def repeats(facts: Facts, t: Thresholds) -> int:
    """Inbound contacts in the window whose topic an earlier inbound contact raised within
    repeat_contact_days before (one pass per topic, oldest first)."""
    since = facts.now - timedelta(days=t.window_days)
    gap = timedelta(days=t.repeat_contact_days)
    by_topic: dict[str, list[datetime]] = {}
    for c in facts.contacts:
        if c.inbound and c.topic:
            by_topic.setdefault(c.topic, []).append(c.at)
    count = 0
    for times in by_topic.values():
        times.sort()
        earlier = None  # the latest time before the current one: the one that may be in the gap
        for n, at in enumerate(times):
            if n and times[n - 1] < at:
                earlier = times[n - 1]
            if at >= since and earlier is not None and at - gap <= earlier:
                count += 1
    return count


#: Self-service contacts that did not help (the bot escalated, or the customer gave up).
FAILED_SELF_SERVICE = (InteractionStatus.ESCALATED, InteractionStatus.ABANDONED)


def failed_self_service(facts: Facts) -> list[Contact]:
    """Self-service contacts of the last 30 days that escalated or were abandoned."""
    since = facts.now - timedelta(days=30)
    return [
        c
        for c in facts.contacts
        if c.self_service and c.at >= since and c.status in FAILED_SELF_SERVICE
    ]


@dataclass(frozen=True)
class Effort:
    """The effort facts and score."""

    score: float
    level: str
    cases: list[Case]
    contacts_per_case: float | None
    switches: int
    repeats: int
    self_service_to_agent: int
    failed_self_service: list[Contact]
    unanswered: int
    first_response_minutes: float | None
    resolution_hours: float | None

    def answer(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level,
            "cases": len(self.cases),
            "contactsPerCase": _round(self.contacts_per_case, 2),
            "channelSwitches": self.switches,
            "repeatContacts": self.repeats,
            "selfServiceToAgent": self.self_service_to_agent,
            "selfServiceFailures": len(self.failed_self_service),
            "unansweredQuestions": self.unanswered,
            "avgFirstResponseMinutes": _round(self.first_response_minutes, 1),
            "avgResolutionHours": _round(self.resolution_hours, 1),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def judge_effort(facts: Facts, t: Thresholds, unanswered: int) -> Effort:
    """The effort score (0 to 1) over the cases of the window and every open case."""
    since = facts.now - timedelta(days=t.window_days)
    cases = [k for k in facts.cases if k.open or k.opened_at >= since]
    per_case = sum(k.contact_count for k in cases) / len(cases) if cases else None
    moved = sum(switches(k) for k in cases)
    repeated = repeats(facts, t)
    to_agent = sum(1 for k in cases if self_service_to_agent(k))
    parts = [
        CONTACTS_PER_CASE[0]
        * (
            0.0 if per_case is None else min(max((per_case - 1) / (CONTACTS_PER_CASE[1] - 1), 0), 1)
        ),
        SWITCHES[0] * min(moved / SWITCHES[1], 1),
        REPEATS[0] * min(repeated / REPEATS[1], 1),
        SELF_SERVICE_TO_AGENT[0] * min(to_agent / SELF_SERVICE_TO_AGENT[1], 1),
        UNANSWERED * (1 if unanswered else 0),
    ]
    score = round(sum(parts), 2)
    level = (
        Level.HIGH
        if score >= t.effort_high
        else Level.MEDIUM
        if score >= t.effort_high / 2
        else Level.LOW
    )
    responses = [
        (c.responded_at - c.at).total_seconds() / 60
        for c in facts.contacts
        if c.inbound and not c.self_service and c.responded_at is not None and c.at >= since
    ]
    hours = [
        (k.resolved_at - k.opened_at).total_seconds() / 3600
        for k in cases
        if k.resolved_at is not None
    ]
    return Effort(
        score=score,
        level=level,
        cases=cases,
        contacts_per_case=per_case,
        switches=moved,
        repeats=repeated,
        self_service_to_agent=to_agent,
        failed_self_service=failed_self_service(facts),
        unanswered=unanswered,
        first_response_minutes=_mean(responses),
        resolution_hours=_mean(hours),
    )
