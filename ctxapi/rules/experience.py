"""Negative and positive experiences, unanswered contacts, and the recovery balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ctxapi.model import (
    Channel,
    Condition,
    ExperienceKind,
    FeedbackKind,
    InteractionStatus,
    ReturnStatus,
    ShipmentStatus,
)
from ctxapi.rules.facts import Contact, Facts, Feedback, Ref
from ctxapi.rules.text import cypher_time, day
from ctxapi.thresholds import Thresholds


@dataclass(frozen=True)
class Experience:
    """One negative experience."""

    kind: str
    at: datetime
    ongoing: bool
    label: str
    detail: str
    about: Ref

    def answer(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": cypher_time(self.at),
            "ongoing": self.ongoing,
            "label": self.label,
            "detail": self.detail,
            "about": self.about,
        }


@dataclass(frozen=True)
class Recovery:
    """Negatives weighed against positives (recovery_ratio)."""

    negatives: list[Experience]
    positives: list[datetime]
    open: list[Experience]
    ratio: int
    unanswered: list[Contact] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        balance = len(self.positives) - self.ratio * len(self.negatives)
        return {
            "positives": len(self.positives),
            "negatives": len(self.negatives),
            "ratio": self.ratio,
            "balance": balance,
            "recovered": balance >= 0,
            "openNegatives": [n.answer() for n in self.open],
        }


#: Channels where the contact is the conversation (a call, a visit, a live chat): answered
#: unless marked ``unanswered`` (a missed call, a chat nobody took).
LIVE_CHANNELS = (Channel.PHONE, Channel.IN_STORE, Channel.CHAT)


def unanswered_contacts(facts: Facts, t: Thresholds) -> list[Contact]:
    """Inbound contacts of the last question_days that nobody answered, newest first: marked
    ``unanswered``, or written (email, message, social, SMS, web form), not by a bot, not
    resolved, with no response time and no outbound contact after them (a customer writing
    again after a case was closed is one). A later outbound contact, or a later call, visit or
    live chat an agent resolved, answers any of them."""
    since = facts.now - timedelta(days=t.question_days)
    # an answer: an outbound contact, or a conversation an agent had with them (a call, a
    # visit, a live chat that was resolved)
    last_answer = max(
        (
            c.at
            for c in facts.contacts
            if not c.inbound
            or (
                c.channel in LIVE_CHANNELS
                and c.status == InteractionStatus.RESOLVED
                and not c.self_service
            )
        ),
        default=None,
    )
    found = []
    for contact in facts.contacts:
        if not contact.inbound or contact.at < since:
            continue
        if last_answer is not None and last_answer > contact.at:
            continue
        if contact.status == InteractionStatus.UNANSWERED or (
            contact.channel not in LIVE_CHANNELS
            and not contact.self_service
            and contact.status != InteractionStatus.RESOLVED
            and contact.responded_at is None
        ):
            found.append(contact)
    return found


def latest_detractor(facts: Facts, t: Thresholds) -> Feedback | None:
    """The latest NPS answer of the window, when it is a detractor's."""
    since = facts.now - timedelta(days=t.window_days)
    nps = [f for f in facts.feedback if f.kind == FeedbackKind.NPS and f.at >= since]
    last = max(nps, key=lambda f: f.at, default=None)
    return last if last is not None and last.score <= t.nps_detractor_max else None


def is_negative_feedback(f: Feedback, t: Thresholds) -> bool:
    """A low score (a review only of something the customer bought)."""
    negative: dict[str, bool] = {
        FeedbackKind.CSAT: f.score <= t.csat_negative_max,
        FeedbackKind.NPS: f.score <= t.nps_detractor_max,
        FeedbackKind.REVIEW: f.score <= t.review_negative_max and f.bought,
        FeedbackKind.CES: f.score <= t.ces_negative_max,
    }
    return negative.get(f.kind, False)


def is_positive_feedback(f: Feedback, t: Thresholds) -> bool:
    """A high score (a review only of something the customer bought)."""
    positive: dict[str, bool] = {
        FeedbackKind.CSAT: f.score >= t.csat_positive_min,
        FeedbackKind.NPS: f.score >= t.nps_promoter_min,
        FeedbackKind.REVIEW: f.score >= t.review_positive_min and f.bought,
        FeedbackKind.CES: f.score >= t.ces_positive_min,
    }
    return positive.get(f.kind, False)


_FEEDBACK_KINDS: dict[str, ExperienceKind] = {
    FeedbackKind.NPS: ExperienceKind.NPS_DETRACTOR,
    FeedbackKind.CSAT: ExperienceKind.LOW_CSAT,
    FeedbackKind.CES: ExperienceKind.HIGH_EFFORT_SCORE,
}


def negatives(facts: Facts, t: Thresholds, unanswered: list[Contact]) -> list[Experience]:
    """Every negative experience of the window (and every open case, whatever its age)."""
    since = facts.now - timedelta(days=t.window_days)
    found: list[Experience] = []
    for case in facts.cases:
        if case.open:
            found.append(
                Experience(
                    ExperienceKind.UNRESOLVED_CASE,
                    case.opened_at,
                    True,
                    "unresolved case " + case.id,
                    "case " + case.id + " " + case.status + " since " + day(case.opened_at)
                    + ": " + case.subject,
                    case.ref,
                )
            )  # fmt: skip
    for f in facts.feedback:
        if f.at >= since and is_negative_feedback(f, t):
            label = f.kind.upper() + " " + str(f.score)
            detail = label + (': "' + f.comment + '"' if f.comment else "")
            kind = _FEEDBACK_KINDS.get(f.kind, ExperienceKind.LOW_REVIEW)
            found.append(Experience(kind, f.at, False, label, detail, f.ref))
    for s in facts.parcels:
        if not s.live:
            continue
        # a parcel sent back (status returned) is not late, but it may have arrived damaged
        promised = s.promised_at  # late: delivered after it, or not delivered and it is past
        late = promised is not None and promised < (s.delivered_at or facts.now)
        if (
            late
            and promised is not None
            and promised >= since
            and s.status != ShipmentStatus.RETURNED
        ):
            if s.delivered_at is None:
                detail = "order " + s.number + " not delivered, promised for " + day(promised)
            else:
                hours = (s.delivered_at - promised).total_seconds() / 3600
                days = int(-(-hours // 24))
                detail = "order " + s.number + " delivered " + str(days) + " day(s) late"
            found.append(
                Experience(
                    ExperienceKind.LATE_DELIVERY,
                    promised,
                    s.delivered_at is None,
                    "late delivery of " + s.number,
                    detail,
                    s.ref,
                )
            )
        if (
            s.condition == Condition.DAMAGED
            and s.delivered_at is not None
            and s.delivered_at >= since
        ):
            found.append(
                Experience(
                    ExperienceKind.DAMAGED_DELIVERY,
                    s.delivered_at,
                    False,
                    "damaged delivery of " + s.number,
                    "order " + s.number + " arrived damaged on " + day(s.delivered_at),
                    s.ref,
                )
            )
    for r in facts.returns:
        at = r.received_at or r.requested_at
        if r.status == ReturnStatus.REJECTED and at is not None and at >= since:
            found.append(
                Experience(
                    ExperienceKind.REFUSED_RETURN,
                    at,
                    False,
                    "refused return of " + r.number,
                    "return of order " + r.number + " refused: " + (r.reason or "no reason given"),
                    r.ref,
                )
            )
    for contact in unanswered:
        found.append(
            Experience(
                ExperienceKind.UNANSWERED_CONTACT,
                contact.at,
                True,
                "unanswered " + contact.channel + " of " + day(contact.at),
                "inbound " + contact.channel + " on " + day(contact.at) + " not answered: "
                + contact.summary,
                contact.ref,
            )
        )  # fmt: skip
    return found


def positives(facts: Facts, t: Thresholds) -> list[datetime]:
    """The times of positive experiences in the window."""
    since = facts.now - timedelta(days=t.window_days)
    found = [
        s.delivered_at
        for s in facts.parcels
        if s.live
        and s.delivered_at is not None
        and s.promised_at is not None
        and s.delivered_at >= since
        and s.delivered_at <= s.promised_at
        and (s.condition or Condition.OK) == Condition.OK
    ]
    found += [f.at for f in facts.feedback if f.at >= since and is_positive_feedback(f, t)]
    found += [
        c.at
        for c in facts.contacts
        if c.at >= since and c.sentiment is not None and c.sentiment >= t.positive_sentiment
    ]
    found += [
        r.refunded_at
        for r in facts.returns
        if r.status == ReturnStatus.REFUNDED
        and r.refunded_at is not None
        and r.refunded_at >= since
    ]
    return found


def judge_recovery(facts: Facts, t: Thresholds) -> Recovery:
    """The balance, and the negatives not yet made good: ongoing, or followed by fewer than
    recovery_ratio positives; ongoing first, then newest first."""
    unanswered = unanswered_contacts(facts, t)
    bad = negatives(facts, t, unanswered)
    good = positives(facts, t)
    still_open = [
        n for n in bad if n.ongoing or sum(1 for p in good if p > n.at) < t.recovery_ratio
    ]
    still_open.sort(key=lambda n: (not n.ongoing, -n.at.timestamp(), str(n.about.get("id"))))
    return Recovery(bad, good, still_open, t.recovery_ratio, unanswered)
