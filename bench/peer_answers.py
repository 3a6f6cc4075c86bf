"""ctxapi's answer and the peer's, side by side: the peer's turned into ctxapi's shape, then both
into one canonical form, so that equal data compares equal and nothing else does;
`check_equivalence` asks both for each of the first customers of the data and compares.

What is normalised, and why (each a difference of representation, not of data):

- **shape**: the peer's API is generated from the graph, so the customer is reached through
  its identity (``identities[0].customers[0]``, exactly one), lists that ctxapi returns plain
  are connections (``identitiesConnection``, ``productsConnection``: the link's properties
  sit on the edge), and ctxapi's ``stats`` are flat ``@cypher`` fields on the customer;
- **money**: the peer returns the stored minor units beside the currency (``totalMinor``,
  ``refundMinor``, ``lifetimeValueMinor``), ctxapi decimal text (``{"amount": "129.90"}``):
  the peer's are formatted with ctxapi.money.as_money (null when either part is null, as
  ctxapi's shaper does);
- **enum values**: the peer returns the graph's strings (``in_store``), ctxapi its enum
  names, which are those strings upper-cased (``IN_STORE``);
- **timestamps**: ctxapi writes Neo4j's ``toString`` (``2025-09-10T10:35:18Z``), the peer
  ISO 8601 with milliseconds: both are compared as instants (UTC, microseconds);
- **cursors**: ``pageInfo.endCursor`` is dropped from both: opaque by contract, and encoded
  differently (ctxapi encodes the last row's sort key, the peer an offset).

Everything else (ids, names, counts, flags, list lengths and order) must be equal as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench.run import HEADLINE
from ctxapi.money import as_money

Json = dict[str, Any]
#: The headline selection in the peer's API.
PEER_QUERY = (Path(__file__).with_name("peer") / "headline.graphql").read_text()


class Mismatch(Exception):
    """An answer that is not one customer, or two answers that differ; says where, not what
    (the values may be personal data)."""


def ctxapi_customer(answer: Json) -> Json:
    """The customer of ctxapi's answer to the headline query."""
    if answer.get("errors") or not (answer.get("data") or {}).get("customerBy"):
        raise Mismatch("ctxapi found no customer, or answered with errors")
    customer: Json = answer["data"]["customerBy"]
    return customer


def peer_customer(answer: Json) -> Json:
    """The one customer of the peer's answer (bench/peer/headline.graphql)."""
    if answer.get("errors"):
        raise Mismatch("the peer answered with errors: " + str(answer["errors"])[:500])
    found: list[Json] = [
        c for identity in answer["data"]["identities"] for c in identity["customers"]
    ]
    if len(found) != 1:
        raise Mismatch(f"the peer found {len(found)} customers, not 1")
    return found[0]


def _money(minor: int | None, currency: str | None) -> dict[str, str] | None:
    return None if minor is None or currency is None else as_money(int(minor), currency)


def _up(value: str | None) -> str | None:
    return None if value is None else value.upper()


def _nodes(connection: Json) -> list[Json]:
    return [edge["node"] for edge in connection["edges"]]


def peer_as_ctxapi(c: Json) -> Json:
    """The peer's customer in the shape of ctxapi's (schema/queries/customer_context.graphql)."""
    orders = c["ordersConnection"]
    return {
        "id": c["id"],
        "name": c["name"],
        "tier": _up(c["tier"]),
        "identities": [
            {"kind": _up(i["kind"]), "value": i["value"], "sharedWith": i["sharedWith"]}
            for i in _nodes(c["identitiesConnection"])
        ],
        "stats": {
            "lifetimeValue": _money(c["lifetimeValueMinor"], c["lifetimeValueCurrency"]),
            "orderCount": c["orderCount"],
            "lastOrderAt": c["lastOrderAt"],
            "lastContactAt": c["lastContactAt"],
            "openCases": c["openCases"],
        },
        "orders": {
            "edges": [{"node": _order(o)} for o in _nodes(orders)],
            "pageInfo": orders["pageInfo"],
        },
        "interactions": {
            "edges": [{"node": _interaction(i)} for i in _nodes(c["interactionsConnection"])]
        },
        "cases": [
            {
                "id": k["id"],
                "subject": k["subject"],
                "status": _up(k["status"]),
                "priority": _up(k["priority"]),
                "channels": [_up(x) for x in k["channels"]],
            }
            for k in c["cases"]
        ],
        "feedback": {
            "edges": [
                {
                    "node": {
                        "kind": _up(f["kind"]),
                        "score": f["score"],
                        "comment": f["comment"],
                        "submittedAt": f["submittedAt"],
                    }
                }
                for f in _nodes(c["feedbackConnection"])
            ]
        },
    }


def _order(o: Json) -> Json:
    return {
        "number": o["number"],
        "placedAt": o["placedAt"],
        "status": _up(o["status"]),
        "total": _money(o["totalMinor"], o["currency"]),
        "items": [
            {
                "quantity": e["properties"]["quantity"],
                "product": {"sku": e["node"]["id"], "name": e["node"]["name"]},
            }
            for e in o["productsConnection"]["edges"]
        ],
        "shipments": [
            s | {"status": _up(s["status"]), "condition": _up(s["condition"])}
            for s in o["shipments"]
        ],
        "returns": [
            {
                "status": _up(r["status"]),
                "reason": r["reason"],
                "refund": _money(r["refundMinor"], r["currency"]),
                "refundedAt": r["refundedAt"],
            }
            for r in o["returns"]
        ],
    }


def _interaction(i: Json) -> Json:
    case = i["case"]
    return {
        "channel": _up(i["channel"]),
        "direction": _up(i["direction"]),
        "occurredAt": i["occurredAt"],
        "summary": i["summary"],
        "status": _up(i["status"]),
        "agent": i["agent"],
        "case": None if case is None else {"id": case["id"], "status": _up(case["status"])},
    }


def canonical(value: Any, key: str = "") -> Any:
    """``value`` with timestamps as UTC instants and cursors dropped (the rest as it is)."""
    if isinstance(value, dict):
        return {k: canonical(v, k) for k, v in value.items() if k != "endCursor"}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, str) and key.endswith("At"):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def first_difference(left: Any, right: Any, path: str = "") -> str | None:
    """Where ``left`` and ``right`` first differ (a path like ``orders.edges[0].node.total``),
    or None when they are equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        for k in sorted(set(left) | set(right)):
            if k not in left or k not in right:
                return f"{path}.{k} (only in {'ctxapi' if k in left else 'the peer'})"
            found = first_difference(left[k], right[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path} ({len(left)} items from ctxapi, {len(right)} from the peer)"
        for n, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{n}]")
            if found:
                return found
        return None
    return None if left == right else path or "."


def compare(ctxapi_answer: Json, peer_answer: Json) -> str | None:
    """Where the two answers for one customer differ after normalising, or None."""
    try:
        left = canonical(ctxapi_customer(ctxapi_answer))
        right = canonical(peer_as_ctxapi(peer_customer(peer_answer)))
    except (Mismatch, KeyError, TypeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return first_difference(left, right)


def first_emails(folder: Path, count: int) -> list[tuple[str, str]]:
    """(customer id, email) of the first ``count`` customers of the data that have an email."""
    ids: list[str] = []
    with (folder / "customers.jsonl").open("rb") as customers:
        for line in customers:
            ids.append(orjson.loads(line)["id"])
            if len(ids) == count:
                break
    email_of: dict[str, str] = {}
    with (folder / "identities.jsonl").open("rb") as identities:
        for line in identities:
            record = orjson.loads(line)
            if record["kind"] == "email" and record["customer"] in ids:
                email_of.setdefault(record["customer"], record["value"])
    return [(cid, email_of[cid]) for cid in ids if cid in email_of]


#: POST a GraphQL request (query, variables) → (status, body), None if it failed: bench.run's
#: graphql_poster, or any client with its shape (the tests' Flask client).
Poster = Callable[[str, dict[str, Any]], tuple[int, bytes] | None]


def check_equivalence(
    ctxapi: Poster, peer: Poster, customers: list[tuple[str, str]]
) -> dict[str, Any]:
    """Both answers for each customer, equal after normalising; SystemExit naming the first
    customers (by id) and where their answers differ (by path, never by value) if not."""
    query = HEADLINE.read_text()
    differences: list[str] = []
    for cid, email in customers:
        a, b = ctxapi(query, {"email": email}), peer(PEER_QUERY, {"email": email})
        if a is None or b is None or a[0] != 200 or b[0] != 200:
            differences.append(f"{cid}: no answer (ctxapi {a and a[0]}, peer {b and b[0]})")
            continue
        found = compare(orjson.loads(a[1]), orjson.loads(b[1]))
        if found:
            differences.append(f"{cid}: {found}")
    if differences or not customers:
        raise SystemExit(
            f"ctxapi and the peer answer differently for {len(differences)} of"
            f" {len(customers)} customers (bench/peer_answers.py):\n  "
            + "\n  ".join(differences[:10] or ["no customers to compare"])
        )
    return {"customers": len(customers), "equal": len(customers)}
