"""The sentiment trend and the churn risk model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctxapi.model import ExperienceKind, FeedbackKind, Level, RiskFactorCode, SentimentDirection
from ctxapi.rules.effort import Effort
from ctxapi.rules.experience import Recovery, latest_detractor
from ctxapi.rules.facts import Facts, Feedback, Ref
from ctxapi.rules.text import cypher_time, day
from ctxapi.rules.value import Value
from ctxapi.thresholds import Thresholds


def feedback_score(f: Feedback) -> float:
    """A survey answer on the -1 to 1 scale of contact sentiment."""
    if f.kind == FeedbackKind.NPS:
        if f.score >= 9:
            return (f.score - 8) / 2
        return 0.0 if f.score >= 7 else (f.score - 7) / 7
    if f.kind == FeedbackKind.CES:
        return (f.score - 4) / 3
    return (f.score - 3) / 2


@dataclass(frozen=True)
class Sentiment:
    """The latest points, the newer half against the older half."""

    direction: str
    latest: float | None
    previous: float | None
    points: list[tuple[datetime, float, Ref]]

    def answer(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "latest": None if self.latest is None else round(self.latest, 2),
            "previous": None if self.previous is None else round(self.previous, 2),
            "points": [
                {"at": cypher_time(at), "score": score, "about": ref}
                for at, score, ref in self.points
            ],
        }


def judge_sentiment(facts: Facts, t: Thresholds) -> Sentiment:
    """Contacts with a sentiment and feedback answers (not reviews of products never bought),
    the latest sentiment_points of them."""
    points = [(c.at, float(c.sentiment), c.ref) for c in facts.contacts if c.sentiment is not None]
    # a review of a product the customer never ordered says nothing about their experience
    points += [(f.at, feedback_score(f), f.ref) for f in facts.feedback if f.bought]
    points.sort(key=lambda p: (p[0], str(p[2].get("id"))), reverse=True)
    points = points[: t.sentiment_points]
    newer = points[: (len(points) + 1) // 2]
    older = points[(len(points) + 1) // 2 :]
    latest = sum(p[1] for p in newer) / len(newer) if newer else None
    previous = sum(p[1] for p in older) / len(older) if older else None
    if latest is None or previous is None or len(points) < t.sentiment_min_points:
        direction = SentimentDirection.UNKNOWN
    elif latest - previous >= t.sentiment_change:
        direction = SentimentDirection.IMPROVING
    elif previous - latest >= t.sentiment_change:
        direction = SentimentDirection.WORSENING
    else:
        direction = SentimentDirection.STEADY
    return Sentiment(direction, latest, previous, points)


@dataclass(frozen=True)
class Churn:
    """A logistic model over named signals: risk = 1 / (1 + exp(-(base + weights)))."""

    score: float
    level: str
    factors: list[tuple[str, float, str]]

    def answer(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "level": self.level,
            "reasons": [detail for _, _, detail in self.factors],
            "factors": [
                {"code": code, "weight": weight, "detail": detail}
                for code, weight, detail in self.factors
            ],
        }


def judge_churn(
    facts: Facts,
    t: Thresholds,
    value: Value,
    effort: Effort,
    recovery: Recovery,
    sentiment: Sentiment,
) -> Churn:
    """The factors that hold, heaviest first, and the risk they add up to. A detractor answer
    counts once: as DETRACTOR, not also among the open negatives."""
    w = t.weights
    factors: list[tuple[str, float, str]] = []
    last = latest_detractor(facts, t)
    if last is not None:
        detail = "latest NPS answer is " + str(last.score) + " (a detractor) on " + day(last.at)
        factors.append((RiskFactorCode.DETRACTOR, w.detractor, detail))
    still_open = [
        n
        for n in recovery.open
        if not (
            n.kind == ExperienceKind.NPS_DETRACTOR
            and last is not None
            and n.about.get("id") == last.ref.get("id")
        )
    ]
    if still_open:
        labels = ", ".join(n.label for n in still_open)
        weight = min(w.open_negative * len(still_open), w.open_negatives_max)
        detail = str(len(still_open)) + " open negative experience(s): " + labels
        factors.append((RiskFactorCode.OPEN_NEGATIVES, weight, detail))
    latest = sentiment.latest
    # one answer alone is no trend, and already counts as the negative (or detractor) it is
    enough = len(sentiment.points) >= t.sentiment_min_points
    if (
        enough
        and latest is not None
        and (
            latest <= t.negative_sentiment
            or (sentiment.direction == SentimentDirection.WORSENING and latest < 0)
        )
    ):
        detail = (
            "sentiment " + sentiment.direction.lower() + ", latest average " + str(round(latest, 2))
        )
        factors.append((RiskFactorCode.SENTIMENT, w.sentiment, detail))
    if effort.score > 0:
        factors.append(
            (
                RiskFactorCode.EFFORT,
                round(w.effort * effort.score, 3),
                "effort score " + str(effort.score),
            )
        )
    days = value.days_since_last_order
    if days is not None and days >= t.lapsed_days:
        if value.vip:
            detail = "a VIP (" + ", ".join(value.vip_reasons) + ") with no order for "
            factors.append((RiskFactorCode.LAPSED, w.lapsed_vip, detail + str(days) + " days"))
        else:
            factors.append((RiskFactorCode.LAPSED, w.lapsed, "no order for " + str(days) + " days"))
    elif days is not None and days >= t.lapsed_days // 2:
        factors.append((RiskFactorCode.COOLING, w.cooling, "no order for " + str(days) + " days"))
    factors.sort(key=lambda f: (-f[1], f[0]))
    odds = w.base + sum(weight for _, weight, _ in factors)
    score = round(1 / (1 + math.exp(-odds)), 2)
    level = (
        Level.HIGH
        if score >= t.risk_high
        else Level.MEDIUM
        if score >= t.risk_medium
        else Level.LOW
    )
    return Churn(score, level, factors)
