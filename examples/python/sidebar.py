#!/usr/bin/env python3
"""An agent sidebar over ctxapi, with the standard library only.

Prints the customer card of whoever is on the line (who, tier, last order and its parcel, the
last contacts, the next best actions) and, with --record, logs the contact the agent is on:

    export CTXAPI_KEY=$(cat .ctxapi/dev-key)        # the key `make run` made
    python3 examples/python/sidebar.py sofia.marquez@example.com
    python3 examples/python/sidebar.py +34612345678 --record "Called about the torn parka"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

CARD = """
query SidebarCard($identity: IdentityInput!) {
  customerBy(identity: $identity) {
    id name tier
    stats { lifetimeValue { amount currency } orderCount openCases }
    orders(first: 1) { edges { node {
      number placedAt status total { amount currency }
      shipments { id carrier status condition late deliveredAt }
    } } }
    interactions(first: 3) { edges { node { channel direction occurredAt status summary } } }
    insights {
      churnRisk { level }
      nextBestActions { kind reason about { type id } }
    }
  }
}
"""

RECORD = """
mutation RecordContact($input: RecordInteractionInput!) {
  recordInteraction(input: $input) {
    replayed
    interaction { id channel occurredAt }
    userErrors { field message code }
  }
}
"""

CHANNELS = ("PHONE", "EMAIL", "CHAT", "SMS", "SOCIAL", "MESSAGING", "IN_STORE", "WEB")


class ApiError(Exception):
    """ctxapi refused the request or could not answer it."""


def execute(url: str, key: str, document: str, **variables: Any) -> dict[str, Any]:
    """POST one operation; its `data`, or ApiError with the first error's message and code."""
    request = urllib.request.Request(  # noqa: S310 (the URL is the user's own setting)
        url,
        data=json.dumps({"query": document, "variables": variables}).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/graphql-response+json, application/json",
            "Authorization": f"Bearer {key}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:  # 4xx and 5xx carry a GraphQL body too
        status, raw = error.code, error.read()
    except urllib.error.URLError as error:
        raise ApiError(f"cannot reach {url}: {error.reason}") from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(f"HTTP {status}: not a GraphQL response") from None
    if body.get("errors"):
        first = body["errors"][0]
        code = first.get("extensions", {}).get("code", f"HTTP {status}")
        raise ApiError(f"{first['message']} ({code})")
    if not body.get("data"):
        raise ApiError(f"HTTP {status}: no data")
    data: dict[str, Any] = body["data"]
    return data


def identity(identifier: str, region: str | None) -> dict[str, str]:
    """An email has an @; anything else is read as a phone number (in any spelling)."""
    if "@" in identifier:
        return {"email": identifier}
    return {"phone": identifier, "region": region} if region else {"phone": identifier}


def clip(text: str, width: int = 100) -> str:
    """A long contact summary cut to one sidebar line."""
    return f"{text[: width - 1]}…" if len(text) > width else text


def render(card: dict[str, Any]) -> str:
    """The card as a few lines of text, as a narrow sidebar shows it."""
    stats, insights = card["stats"], card["insights"]
    value = stats["lifetimeValue"]
    cases = stats["openCases"]
    lines = [
        f"{card['name']} ({card['id']}) · {card['tier']}"
        f" · churn risk {insights['churnRisk']['level']}",
        f"  {stats['orderCount']} orders"
        + (f", {value['amount']} {value['currency']}" if value else "")
        + f" · {cases} open case{'' if cases == 1 else 's'}",
    ]
    for edge in card["orders"]["edges"][:1]:
        order = edge["node"]
        total = order["total"]
        lines.append(
            f"Last order {order['number']} on {order['placedAt'][:10]}: {order['status']},"
            f" {total['amount']} {total['currency']}"
        )
        for parcel in order["shipments"]:
            state = [parcel["status"], parcel["condition"], "LATE" if parcel["late"] else None]
            when = f" on {parcel['deliveredAt'][:10]}" if parcel["deliveredAt"] else ""
            lines.append(
                f"  parcel {parcel['id']} ({parcel['carrier']})"
                f" {', '.join(s for s in state if s)}{when}"
            )
    lines.append("Last contacts")
    for edge in card["interactions"]["edges"]:
        contact = edge["node"]
        lines.append(
            f"  {contact['occurredAt'][:10]} {contact['channel']} {contact['direction']}"
            f" {contact['status']}: {clip(contact['summary'])}"
        )
    lines.append("Next best actions")
    for rank, action in enumerate(insights["nextBestActions"], start=1):  # best first
        about = ", ".join(f"{ref['type']} {ref['id']}" for ref in action["about"])
        lines.append(
            f"  {rank}. {action['kind']}"
            + (f" [{about}]" if about else "")
            + f": {action['reason']}"
        )
    if not insights["nextBestActions"]:
        lines.append("  (none)")
    return "\n".join(lines)


def outcome(recorded: dict[str, Any]) -> str:
    """What recordInteraction answered: the new contact's id, or why nothing was written."""
    if recorded["userErrors"]:
        return "\n".join(
            f"Not recorded: {'.'.join(e['field'])}: {e['message']} ({e['code']})"
            for e in recorded["userErrors"]
        )
    contact = recorded["interaction"]
    if contact is None:
        return "Recorded, but it cannot be read back with this key (context:read)."
    line = f"Recorded contact {contact['id']} ({contact['channel']}, {contact['occurredAt']})"
    if recorded["replayed"]:
        line += " (replayed: already recorded with this key, nothing new written)"
    return line


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sidebar.py",
        description="Print the customer card of IDENTIFIER from ctxapi, and optionally record"
        " the contact the agent is on.",
        epilog="environment: CTXAPI_URL, the GraphQL endpoint (default"
        " http://127.0.0.1:8000/graphql); CTXAPI_KEY, an API key (make run writes one to"
        " .ctxapi/dev-key) with context:read, and interactions:write to record.",
    )
    parser.add_argument("identifier", help="an email, or a phone number in any spelling")
    parser.add_argument("--region", help="region of a phone number without country code (ES)")
    parser.add_argument("--record", metavar="SUMMARY", help="record a contact with this summary")
    parser.add_argument(
        "--channel", type=str.upper, choices=CHANNELS, default="PHONE", help="(default PHONE)"
    )
    parser.add_argument(
        "--direction", type=str.upper, choices=("INBOUND", "OUTBOUND"), default="INBOUND"
    )
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="the request's key (default: a new UUID); the same key again is a replay",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = arguments()
    options = parser.parse_args(argv)
    url = os.environ.get("CTXAPI_URL") or "http://127.0.0.1:8000/graphql"
    key = os.environ.get("CTXAPI_KEY") or parser.error(
        "set CTXAPI_KEY to an API key (make run writes one to .ctxapi/dev-key)"
    )
    try:
        card = execute(url, key, CARD, identity=identity(options.identifier, options.region))[
            "customerBy"
        ]
        if card is None:
            print("No customer has this identifier.")
            return 1
        print(render(card))
        if options.record is None:
            return 0
        contact = {
            "idempotencyKey": options.idempotency_key or str(uuid.uuid4()),
            "customerId": card["id"],
            "channel": options.channel,
            "direction": options.direction,
            "summary": options.record,
        }
        recorded = execute(url, key, RECORD, input=contact)["recordInteraction"]
    except ApiError as error:
        print(f"sidebar.py: {error}", file=sys.stderr)
        return 1
    print(outcome(recorded))
    return 1 if recorded["userErrors"] else 0


if __name__ == "__main__":
    sys.exit(main())
