"""All the rules over one customer's facts: the answer ``Customer.insights`` reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctxapi.rules.actions import judge_actions
from ctxapi.rules.effort import judge_effort
from ctxapi.rules.experience import judge_recovery
from ctxapi.rules.facts import Facts
from ctxapi.rules.mood import judge_churn, judge_sentiment
from ctxapi.rules.text import cypher_time
from ctxapi.rules.value import judge_value
from ctxapi.thresholds import Thresholds


def judge(facts: Facts, t: Thresholds) -> dict[str, Any]:
    """Every signal and the next best actions, keyed by the fields of ``Insights``."""
    value = judge_value(facts, t)
    recovery = judge_recovery(facts, t)
    effort = judge_effort(facts, t, len(recovery.unanswered))
    sentiment = judge_sentiment(facts, t)
    churn = judge_churn(facts, t, value, effort, recovery, sentiment)
    actions = judge_actions(facts, t, value, effort, recovery)
    return {
        "asOf": cypher_time(facts.now),
        "value": value.answer(),
        "effort": effort.answer(),
        "recovery": recovery.answer(),
        "sentiment": sentiment.answer(),
        "churnRisk": churn.answer(),
        "nextBestActions": [action.answer() for action in actions],
    }


def judge_graph_facts(raw: Mapping[str, Any], t: Thresholds) -> dict[str, Any]:
    """``judge`` over the facts map the insights fragment returned."""
    return judge(Facts.parse(raw), t)
