"""The events: what a committed write tells others (webhooks, live cards), as a closed set.

Every ``Write`` of the ledger (``ctxapi.store.ledger``) carries one ``Event``; a webhook
subscribes to some of them (``ctxapi webhooks add --events``). What an event's payload carries
is ``ids_of`` its write's result: ids and closed-set values only, never a personal value.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Event(StrEnum):
    """What happened; the value is the name webhooks and the ledger use."""

    INTERACTION_RECORDED = "interaction.recorded"
    QUEUE_ITEM_CONTACTED = "queue.item_contacted"
    QUEUE_ITEM_DUE = "queue.item_due"
    FEEDBACK_RECORDED = "feedback.recorded"
    CASE_UPDATED = "case.updated"
    NOTE_ADDED = "note.added"
    IDENTITY_LINKED = "identity.linked"
    IDENTITY_UNLINKED = "identity.unlinked"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMER_ERASED = "customer.erased"

    @property
    def meaning(self) -> str:
        """One line: when the event is emitted."""
        return MEANINGS[self]


MEANINGS: dict[Event, str] = {
    Event.INTERACTION_RECORDED: "a contact was recorded (recordInteraction)",
    Event.QUEUE_ITEM_CONTACTED: "a proactive queue item's customer was contacted (markContacted)",
    Event.QUEUE_ITEM_DUE: "a proactive queue item (late parcel, overdue refund, quiet case)"
    " fell due",
    Event.FEEDBACK_RECORDED: "feedback was recorded (recordFeedback)",
    Event.CASE_UPDATED: "a case was updated (updateCase)",
    Event.NOTE_ADDED: "a note was added (addNote)",
    Event.IDENTITY_LINKED: "an identifier was linked to a customer (linkIdentity)",
    Event.IDENTITY_UNLINKED: "an identifier was unlinked from a customer (unlinkIdentity)",
    Event.CUSTOMER_MERGED: "two customers were merged into one (mergeCustomers)",
    Event.CUSTOMER_UNMERGED: "a merge was undone (unmergeCustomers)",
    Event.CUSTOMER_ERASED: "a customer was erased (eraseCustomer, ctxapi erase)",
}
if set(MEANINGS) != set(Event):  # pragma: no cover - a new member without its meaning
    raise ValueError(f"events without a meaning: {sorted(set(Event) - set(MEANINGS))}")


def parse_events(text: str) -> list[Event]:
    """Comma-separated event names as ``Event``s (ValueError names the unknown ones)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in Event._value2member_map_]
    valid = ", ".join(event.value for event in Event)
    if unknown:
        raise ValueError(f"unknown event(s): {', '.join(unknown)}; valid events: {valid}")
    if not names:
        raise ValueError(f"give at least one event; valid events: {valid}")
    return list(dict.fromkeys(Event(name) for name in names))


def ids_of(result: dict[str, Any]) -> dict[str, Any]:
    """The part of a write's result an event may carry: each ``{"id": …}`` object (and list of
    them) by its name, reduced to its id. Everything else (an erasure receipt's counts and
    reason) is left out, so a payload never holds a personal value."""
    data: dict[str, Any] = {}
    for name, value in result.items():
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            data[name] = {"id": value["id"]}
        elif isinstance(value, list) and all(
            isinstance(item, dict) and isinstance(item.get("id"), str) for item in value
        ):
            data[name] = [{"id": item["id"]} for item in value]
    return data
