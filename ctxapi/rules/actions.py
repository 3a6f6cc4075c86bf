"""Next best actions: what the agent should do now, and why, for every tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ctxapi.model import ActionKind, ReturnStatus, ShipmentStatus
from ctxapi.money import as_money, format_minor_units
from ctxapi.rules.effort import Effort, switches
from ctxapi.rules.experience import Recovery, latest_detractor
from ctxapi.rules.facts import Facts, Ref
from ctxapi.rules.text import day, days_between
from ctxapi.rules.value import Value, convert
from ctxapi.thresholds import Thresholds


@dataclass(frozen=True)
class Action:
    """One next best action."""

    kind: str
    priority: int
    reason: str
    about: list[Ref]
    incentive: dict[str, str] | None = field(default=None)

    def answer(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "priority": self.priority,
            "reason": self.reason,
            "about": self.about,
            "incentive": self.incentive,
        }


def days(start: datetime, end: datetime) -> str:
    """``1 day``, ``3 days``: whole days from ``start`` to ``end``, worded as the proactive
    queue's detail lines word them (ctxapi.graphql.proactive)."""
    count = days_between(start, end)
    return str(count) + (" day" if count == 1 else " days")


def _told(last_update: datetime | None, now: datetime, never: str) -> str:
    """When the last update was sent, or ``never``."""
    if last_update is None:
        return never
    return "last update sent " + day(last_update) + " (" + days(last_update, now) + " ago)"


def incentive(facts: Facts, recovery: Recovery, t: Thresholds) -> tuple[int, str]:
    """A VIP's suggested incentive in value_currency: incentive_percent of the largest order
    an open negative concerns, else incentive_default; at most incentive_max. Also its basis."""
    concerned = {str(n.about.get("id")) for n in recovery.open}
    totals = [
        (convert(s.total, s.currency, t), s.number)
        for s in facts.parcels
        if str(s.ref.get("id")) in concerned and s.total is not None and s.currency
    ]
    totals += [
        (convert(r.total, r.currency, t), r.number)
        for r in facts.returns
        if str(r.ref.get("id")) in concerned and r.total is not None and r.currency
    ]
    known = [(total, number) for total, number in totals if total is not None]
    if not known:
        return min(t.incentive_default, t.incentive_max), "the default incentive"
    total, number = max(known)
    share = total * t.incentive_percent // 100
    basis = str(t.incentive_percent) + "% of order " + number
    if share > t.incentive_max:
        cap = format_minor_units(t.incentive_max, t.value_currency)
        return t.incentive_max, basis + ", capped at " + cap
    return share, basis


def judge_actions(
    facts: Facts, t: Thresholds, value: Value, effort: Effort, recovery: Recovery
) -> list[Action]:
    """Every action that holds, highest priority first (then by kind, then by record)."""
    p = t.priorities
    now = facts.now
    since = now - timedelta(days=t.window_days)
    actions: list[Action] = []
    open_negatives = recovery.open
    if open_negatives:
        labels = "; ".join(n.label for n in open_negatives)
        about = [n.about for n in open_negatives]
        count = str(len(open_negatives)) + " open negative experience(s): " + labels
        if value.vip:
            amount, basis = incentive(facts, recovery, t)
            offer = format_minor_units(amount, t.value_currency) + " " + t.value_currency
            actions.append(
                Action(
                    ActionKind.APOLOGIZE_AND_COMPENSATE,
                    p.apologize_and_compensate,
                    "VIP (" + ", ".join(value.vip_reasons) + ") with " + count
                    + "; apologize and offer an incentive of " + offer + " (" + basis + ")",
                    about,
                    as_money(amount, t.value_currency),
                )
            )  # fmt: skip
        else:
            reason = count + "; apologize and say what happens next"
            actions.append(Action(ActionKind.APOLOGIZE, p.apologize, reason, about))
    for s in facts.parcels:
        if not (s.live and s.delivered_at is None and s.status != ShipmentStatus.RETURNED):
            continue
        if s.promised_at is None or s.promised_at < since:
            continue
        if s.update_due is None or s.update_due > now:
            continue  # not promised yet, or an update was sent recently (ctxapi.graphql.due)
        told = _told(s.last_update, now, "nobody has told the customer")
        actions.append(
            Action(
                ActionKind.PROACTIVE_DELIVERY_UPDATE,
                p.delivery_update if s.last_update is None else p.delivery_update_again,
                "parcel for order " + s.number + " (" + s.carrier + ") promised for "
                + day(s.promised_at) + " (" + days(s.promised_at, now)
                + " ago), not delivered; " + told,
                [s.ref, s.order],
            )
        )  # fmt: skip
    hard = [
        k
        for k in effort.cases
        if k.open and (k.contact_count >= t.escalate_contacts or switches(k) >= t.escalate_switches)
    ]
    failed = effort.failed_self_service
    if hard or len(failed) >= t.escalate_self_service_failures:
        if hard:
            said = "; ".join(
                "open case " + k.id + " took " + str(k.contact_count) + " contacts and "
                + str(switches(k)) + " channel switch(es)"
                for k in hard
            )  # fmt: skip
        else:
            said = str(len(failed)) + " self-service contacts failed in 30 days"
        actions.append(
            Action(
                ActionKind.ESCALATE_TO_LIVE_AGENT,
                p.escalate,
                said + "; give it to one senior agent who owns it to the end",
                [k.ref for k in hard] if hard else [c.ref for c in failed],
            )
        )
    unanswered = recovery.unanswered
    if unanswered:
        oldest = unanswered[-1]
        actions.append(
            Action(
                ActionKind.ANSWER_OPEN_QUESTION,
                p.answer_question,
                str(len(unanswered)) + " question(s) unanswered, the oldest from "
                + day(oldest.at) + ": " + oldest.summary,
                [c.ref for c in unanswered],
            )
        )  # fmt: skip
    last = latest_detractor(facts, t)
    if last is not None:
        called = any(not c.inbound and c.at > last.at for c in facts.contacts)
        fresh = last.at >= now - timedelta(days=t.detractor_days)
        if fresh and not called:
            said = "NPS " + str(last.score) + " on " + day(last.at)
            said += ': "' + last.comment + '"' if last.comment else ""
            actions.append(
                Action(
                    ActionKind.RECOVER_DETRACTOR,
                    p.recover_detractor,
                    said + ", and nobody has called back since; call, listen, close the loop",
                    [last.ref],
                )
            )
    for r in facts.returns:
        if r.status != ReturnStatus.RECEIVED:
            continue
        due = None if r.received_at is None else r.received_at + timedelta(days=t.refund_due_days)
        if due is None:
            when = ""
        elif due < now:
            when = " (due " + day(due) + ", " + days(due, now) + " overdue)"
        else:
            when = " (due " + day(due) + ")"
        received = "on a date not recorded" if r.received_at is None else day(r.received_at)
        actions.append(
            Action(
                ActionKind.CONFIRM_REFUND_TIMING,
                p.refund_overdue if due is not None and due < now else p.refund_due,
                "return of order " + r.number + " received " + received
                + ", refund not paid" + when,
                [r.ref, r.order],
            )
        )  # fmt: skip
    for k in facts.cases:
        if k.open and k.follow_up_due is not None and k.follow_up_due <= now:
            told = _told(k.last_update, now, "no update sent")
            actions.append(
                Action(
                    ActionKind.FOLLOW_UP_OPEN_CASE,
                    p.follow_up_case,
                    "case " + k.id + " (" + k.subject + ") " + k.status + " since "
                    + day(k.opened_at) + " (" + days(k.opened_at, now) + "); " + told,
                    [k.ref],
                )
            )  # fmt: skip
    for cart in facts.carts:
        if not cart.bought_since:
            actions.append(
                Action(
                    ActionKind.RECOVER_ABANDONED_CART,
                    p.abandoned_cart,
                    "cart " + cart.number + " abandoned on " + day(cart.at) + " with "
                    + str(cart.items) + " item(s), nothing ordered since",
                    [cart.ref],
                )
            )  # fmt: skip
    upset = bool(open_negatives)  # never ask an unhappy customer how it went
    recent = now - timedelta(days=t.feedback_request_days)
    resolved = [
        k
        for k in facts.cases
        if not k.open and not k.rated and k.resolved_at is not None and k.resolved_at >= recent
    ]
    for k in sorted(resolved, key=lambda k: k.resolved_at or now, reverse=True):
        assert k.resolved_at is not None
        wrote_again = any(
            c.inbound and c.case == k.id and c.at > (k.resolved_at or now) for c in facts.contacts
        )
        if upset or wrote_again:
            continue
        actions.append(
            Action(
                ActionKind.REQUEST_FEEDBACK,
                p.request_feedback,
                "case " + k.id + " (" + k.subject + ") resolved " + day(k.resolved_at)
                + " and nobody asked how it went",
                [k.ref],
            )
        )  # fmt: skip
    actions.sort(key=lambda a: (-a.priority, a.kind, str(a.about[0].get("id")) if a.about else ""))
    return actions
