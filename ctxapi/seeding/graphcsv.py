"""The graph ``seed load`` would write, as CSV files for ``neo4j-admin database import``.

From the rows ``seeding.bulk`` kept (the write queries' rows, the last accepted of each key),
the nodes and relationships the write queries of ``store.graph`` make: the same labels,
properties (timestamps as DateTime, money in minor units, ``sourceHash``, ``queueTier`` while
an item may fall due), relationships and their properties. Every property of a row must have
a column here: one the schemas gain and this file lacks stops the import (``UnknownField``)
rather than dropping it silently. Node ids live in one id space, ``<Label>:<id>``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from ctxapi import model as m
from ctxapi.seeding.bulk import Checked
from ctxapi.store import records as r

S, L, D, B, T = "string", "long", "double", "boolean", "datetime"

#: Record type → (label, its properties and their types, its timestamps).
NODES: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "brands": ("Brand", {"name": S}, ()),
    "agents": ("Agent", {"name": S, "team": S, "bot": B}, ()),
    "products": ("Product", {"name": S, "category": S, "priceMinor": L, "currency": S}, ()),
    "customers": ("Customer", {"name": S, "tier": S, "locale": S}, ("createdAt",)),
    "addresses": (
        "Address",
        {"kind": S, "line1": S, "line2": S, "city": S, "postalCode": S, "region": S, "country": S},
        (),
    ),
    "orders": (
        "Order",
        {"number": S, "status": S, "channel": S, "totalMinor": L, "currency": S},
        ("placedAt",),
    ),
    "shipments": (
        "Shipment",
        {"carrier": S, "trackingNumber": S, "status": S, "condition": S},
        ("shippedAt", "promisedAt", "deliveredAt"),
    ),
    "returns": (
        "Return",
        {"reason": S, "status": S, "refundMinor": L, "currency": S},
        ("requestedAt", "receivedAt", "refundedAt"),
    ),
    "cases": ("Case", {"subject": S, "status": S, "priority": S}, ("openedAt", "resolvedAt")),
    "interactions": (
        "Interaction",
        {
            "channel": S,
            "direction": S,
            "summary": S,
            "topic": S,
            "status": S,
            "sentiment": D,
            "selfService": B,
            "durationSeconds": L,
        },
        ("occurredAt", "respondedAt"),
    ),
    "feedback": ("Feedback", {"kind": S, "score": L, "comment": S}, ("submittedAt",)),
}
#: Relationship type → its properties and their types (``IDENTIFIES`` carries the link's).
RELATIONSHIPS: dict[str, dict[str, str]] = {
    "OF_BRAND": {}, "LIVES_AT": {"kind": S},
    "IDENTIFIES": {"source": S, "confidence": D, "sourceHash": S, "linkedAt": T},
    "PLACED": {}, "CONTAINS": {"line": L, "quantity": L, "unitPriceMinor": L},
    "SHIPPED_AS": {}, "RETURNS": {}, "OPENED": {}, "HAD": {}, "VIA": {}, "PART_OF": {},
    "HANDLED_BY": {}, "ABOUT": {}, "GAVE": {}, "RATES": {},
}  # fmt: skip
_QUEUED = {"shipments", "returns", "cases"}  # items that carry queueTier while they may fall due
_SETTLED_PARCELS = (m.ShipmentStatus.DELIVERED.value, m.ShipmentStatus.RETURNED.value)
_OPEN_CASES = tuple(status.value for status in m.OPEN_CASE_STATUSES)


class UnknownField(RuntimeError):
    """A row holds a property this module has no column for (the schemas changed)."""


def may_fall_due(type_name: str, props: dict[str, Any], times: dict[str, str]) -> bool:
    """``model.MAY_FALL_DUE`` of a parcel, return or case, read from its row."""
    if type_name == "shipments":
        return "deliveredAt" not in times and props["status"] not in _SETTLED_PARCELS
    if type_name == "returns":
        return bool(props["status"] == m.ReturnStatus.RECEIVED.value)
    return props["status"] in _OPEN_CASES


def _cell(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == B:
        return "true" if value else "false"
    if kind == D:
        return repr(float(value))
    return str(value)


@dataclass
class _File:
    path: Path
    columns: list[tuple[str, str]]  # (property, type)
    handle: IO[str]
    writer: Any
    multiline: bool = False

    def add(self, *start: str, values: dict[str, Any]) -> None:
        cells = [*start, *(_cell(values.get(name), kind) for name, kind in self.columns)]
        if not self.multiline and any("\n" in c or "\r" in c for c in cells):
            self.multiline = True
        self.writer.writerow(cells)


@dataclass
class GraphFiles:
    """The CSV files of one import: nodes per label, relationships per type."""

    folder: Path
    nodes: dict[str, _File] = field(default_factory=dict)
    relationships: dict[str, _File] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def _open(self, name: str, head: list[str], columns: list[tuple[str, str]]) -> _File:
        path = self.folder / f"{name}.csv"
        handle = path.open("w", encoding="utf-8", newline="")
        # Rows end with CRLF, so a cell holding a lone CR (or LF) is quoted: Python's writer
        # quotes only cells that hold the delimiter, the quote or a character of the line end.
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([*head, *(f"{prop}:{kind}" for prop, kind in columns)])
        return _File(path, columns, handle, writer)

    def node(self, label: str, node_id: str, values: dict[str, Any], columns: Any) -> None:
        file = self.nodes.get(label)
        if file is None:
            file = self.nodes[label] = self._open(label, [":ID"], list(columns))
        file.add(node_id, values=values)
        self.counts[label] = self.counts.get(label, 0) + 1

    def link(self, kind: str, start: str, end: str, values: dict[str, Any] | None = None) -> None:
        file = self.relationships.get(kind)
        if file is None:
            columns = list(RELATIONSHIPS[kind].items())
            file = self.relationships[kind] = self._open(kind, [":START_ID", ":END_ID"], columns)
        file.add(start, end, values=values or {})
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def close(self) -> None:
        for file in (*self.nodes.values(), *self.relationships.values()):
            file.handle.close()

    def arguments(self) -> list[str]:
        """``neo4j-admin database import full`` arguments naming these files."""
        found = [f"--nodes={label}={f.path}" for label, f in self.nodes.items()]
        found += [f"--relationships={kind}={f.path}" for kind, f in self.relationships.items()]
        multiline = [str(f.path) for f in (*self.nodes.values(), *self.relationships.values())
                     if f.multiline]  # fmt: skip
        if multiline:
            found += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(multiline)]
        return found


def _winning_rows(checked: Checked, type_name: str) -> Iterator[dict[str, Any]]:
    """The spooled rows of a type that the graph would hold (the last of each key)."""
    spool = checked.spools.get(type_name)
    if spool is None:
        return
    wanted = {index for _, index in checked.winners.get(type_name, {}).values()}
    with spool.open("rb") as lines:
        for index, line in enumerate(lines):
            if index in wanted:
                yield orjson.loads(line)


def write_graph(checked: Checked, folder: Path, tombstones: list[dict[str, Any]]) -> GraphFiles:
    """Write the CSV files of the graph the checked rows make (and the tombstones kept)."""
    files = GraphFiles(folder)
    tiers: dict[str, str] = {}  # customer → tier
    placed_by: dict[str, str] = {}  # order → customer
    identities: dict[tuple[str, str], str] = {}  # (kind, value) → node id
    try:
        for type_name, (label, props, times) in NODES.items():
            if type_name == "addresses":  # identities come between: their node is shared
                _identities(checked, files, identities)
            columns = [*props.items(), *((t, T) for t in times), ("id", S), ("sourceHash", S)]
            if type_name in _QUEUED:
                columns.append(("queueTier", S))
            for row in _winning_rows(checked, type_name):
                values = _node_values(type_name, row, props, times)
                node = f"{label}:{row['id']}"
                if type_name in _QUEUED:
                    owner = placed_by[row["order"]] if "order" in row else row["customer"]
                    if may_fall_due(type_name, row["props"], row["t"]):
                        values["queueTier"] = tiers[owner]
                files.node(label, node, values, columns)
                if type_name == "customers":
                    tiers[row["id"]] = row["props"]["tier"]
                elif type_name == "orders":
                    placed_by[row["id"]] = row["customer"]
                _links(type_name, node, row, files, identities)
        stone_columns = [("key", S), ("kind", S), ("erasure", S), ("at", T)]
        for stone in tombstones:
            if stone.get("pepper") is not None:
                pepper = {"id": "pepper", "check": stone["pepper"]}
                columns = [("id", S), ("check", S)]
                files.node("TombstonePepper", "TombstonePepper:pepper", pepper, columns)
            else:
                files.node("Tombstone", f"Tombstone:{stone['key']}", stone, stone_columns)
    finally:
        files.close()
    return files


def _node_values(
    type_name: str, row: dict[str, Any], props: dict[str, str], times: tuple[str, ...]
) -> dict[str, Any]:
    unknown = [k for k in row["props"] if k not in props] + [k for k in row["t"] if k not in times]
    if unknown:
        raise UnknownField(
            f"{type_name} records now have {', '.join(unknown)}: ctxapi.seeding.graphcsv has no "
            "column for it; add one (and its type) there, or load with `ctxapi seed load`"
        )
    return {**row["props"], **row["t"], "id": row["id"], "sourceHash": row["hash"]}


def _identities(checked: Checked, files: GraphFiles, nodes: dict[tuple[str, str], str]) -> None:
    columns = [("kind", S), ("value", S)]
    for row in _winning_rows(checked, "identities"):
        key = (row["kind"], row["value"])
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = f"Identity:{len(nodes)}"
            files.node("Identity", node, {"kind": key[0], "value": key[1]}, columns)
        unknown = [k for k in row["props"] if k not in RELATIONSHIPS["IDENTIFIES"]]
        if unknown:
            raise UnknownField(f"identities records now have {', '.join(unknown)}: see graphcsv")
        values = {**row["props"], "sourceHash": row["hash"], **row["t"]}
        files.link("IDENTIFIES", node, f"Customer:{row['customer']}", values)


def _links(
    type_name: str,
    node: str,
    row: dict[str, Any],
    files: GraphFiles,
    identities: dict[tuple[str, str], str],
) -> None:
    """The relationships the write query of ``type_name`` makes from the node of ``row``."""
    customer = f"Customer:{row.get('customer')}"
    if type_name == "customers":
        files.link("OF_BRAND", node, f"Brand:{row['brand']}")
    elif type_name == "addresses":
        files.link("LIVES_AT", customer, node, {"kind": row["props"]["kind"]})
    elif type_name == "orders":
        files.link("PLACED", customer, node)
        for n, item in enumerate(row["items"], start=1):
            values = {"line": n, "quantity": item["quantity"],
                      "unitPriceMinor": item["unitPriceMinor"]}  # fmt: skip
            files.link("CONTAINS", node, f"Product:{item['product']}", values)
    elif type_name == "shipments":
        files.link("SHIPPED_AS", f"Order:{row['order']}", node)
    elif type_name == "returns":
        files.link("RETURNS", node, f"Order:{row['order']}")
    elif type_name == "cases":
        files.link("OPENED", customer, node)
    elif type_name == "interactions":
        files.link("HAD", customer, node)
        if row["identity"] is not None:
            files.link("VIA", node, identities[(row["identity"][0], row["identity"][1])])
        if row["case"] is not None:
            files.link("PART_OF", node, f"Case:{row['case']}")
        if row["agent"] is not None:
            files.link("HANDLED_BY", node, f"Agent:{row['agent']}")
        targets = {f"{r.ABOUT_TYPES[ref['type']]}:{ref['id']}" for ref in row["about"]}
        for target in sorted(targets):  # MERGE: one relationship per target
            files.link("ABOUT", node, target)
    elif type_name == "feedback":
        files.link("GAVE", customer, node)
        if row["rates"] is not None:
            rates = row["rates"]
            files.link("RATES", node, f"{r.RATES_TYPES[rates['type']]}:{rates['id']}")
