"""Merges at the same time as other writes, on threads against the real Neo4j: they serialize
on the customers' locks, so nothing is lost and nothing is half merged."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.api import query
from tests.conftest import keyed
from tests.test_identity_lifecycle import MERGE, NOW, UNMERGE, add_pair, links
from tests.world import World, load
from tests.writing import together

RECORD = """
mutation($input: RecordInteractionInput!) { recordInteraction(input: $input) {
  interaction { id } userErrors { field code } } }
"""


@pytest.fixture(scope="module")
def world(db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Database:
    w = World()
    w.add("products", id="P-1", name="Tent")
    for n in range(11):
        add_pair(w, n)
    return load(w, db, settings, tmp_path_factory)


@pytest.fixture
def secret(settings: Settings, world: Database) -> str:
    scopes = [Scope.CONTEXT_READ, Scope.IDENTITIES_MANAGE, Scope.INTERACTIONS_WRITE]
    made, _ = KeyStore(world).create("r-" + uuid.uuid4().hex[:10], scopes, ["b"])
    return made


@pytest.fixture
def app(settings: Settings, world: Database, tmp_path: Path) -> Flask:
    return create_app(replace(settings, clock=NOW, audit_log=str(tmp_path / "audit.jsonl")))


def send(app: Flask, secret: str, text: str, fields: dict[str, Any]) -> dict[str, Any]:
    """One request on its own client; the mutation's payload."""
    client: FlaskClient = keyed(app.test_client(), secret)
    body = query(client, text, input=fields)
    assert "errors" not in body, body["errors"]
    [answer] = body["data"].values()
    return answer  # type: ignore[no-any-return]


def merge_fields(n: int, idempotency_key: str | None = None) -> dict[str, Any]:
    return {
        "idempotencyKey": idempotency_key or uuid.uuid4().hex,
        "survivorId": f"S{n}",
        "mergedId": f"M{n}",
        "reason": "race",
    }


def contact_of(cid: str) -> dict[str, Any]:
    return {
        "idempotencyKey": uuid.uuid4().hex,
        "customerId": cid,
        "channel": "PHONE",
        "direction": "INBOUND",
        "summary": "called during the merge",
    }


def only_a_tombstone(db: Database, cid: str) -> bool:
    return [link[:2] for link in links(db, cid)] == [("MERGED_INTO", True)]


@pytest.mark.parametrize("n", [0, 1, 2])
def test_contacts_recorded_while_their_customer_is_merged_end_on_the_survivor_or_are_refused(
    app: Flask, secret: str, world: Database, n: int
) -> None:
    # when: one merge and four contacts for the merged customer, at once
    calls = [lambda: send(app, secret, MERGE, merge_fields(n))] + [
        lambda: send(app, secret, RECORD, contact_of(f"M{n}")) for _ in range(4)
    ]
    merged, *recorded = together(calls)
    # then: the merge happened, whole
    assert merged["userErrors"] == []
    assert only_a_tombstone(world, f"M{n}")
    # and every contact is the survivor's, or was refused naming the survivor
    written = [r["interaction"]["id"] for r in recorded if r["interaction"]]
    refused = [r["userErrors"] for r in recorded if not r["interaction"]]
    assert all(errors == [{"field": ["input", "customerId"], "code": "CONFLICT"}]
               for errors in refused), refused  # fmt: skip
    owners = world.read(
        "MATCH (c:Customer)-[:HAD]->(i:Interaction) WHERE i.id IN $ids RETURN c.id AS id",
        {"ids": written},
    )
    assert [r["id"] for r in owners] == [f"S{n}"] * len(written)
    moved = world.read(
        "MATCH (:Merge {merged: $m})-[mv:MOVED {movedType: 'HAD'}]->(i) RETURN i.id AS id",
        {"m": f"M{n}"},
    )
    assert {f"I-M{n}"} | set(written) == {r["id"] for r in moved}


def test_two_merges_of_one_pair_at_once_merge_once(
    app: Flask, secret: str, world: Database
) -> None:
    # when: two requests (two keys), then one request sent three times (one key)
    first = together([lambda: send(app, secret, MERGE, merge_fields(3)) for _ in range(2)])
    fields = merge_fields(4)
    second = together([lambda: send(app, secret, MERGE, fields) for _ in range(3)])
    # then
    assert sorted(len(a["userErrors"]) for a in first) == [0, 1]
    [loser] = [a for a in first if a["userErrors"]]
    assert [(e["field"], e["code"]) for e in loser["userErrors"]] == [
        (["input", "mergedId"], "CONFLICT")]  # fmt: skip
    assert all(a["userErrors"] == [] for a in second)
    assert sorted(a["replayed"] for a in second) == [False, True, True]
    assert len({a["merge"]["id"] for a in second}) == 1
    for n in (3, 4):
        assert only_a_tombstone(world, f"M{n}")
        [row] = world.read("MATCH (g:Merge {merged: $m}) RETURN count(g) AS n", {"m": f"M{n}"})
        assert row["n"] == 1


@pytest.mark.parametrize("n", [5, 6, 7])
def test_a_merge_racing_the_unmerge_of_the_pair_leaves_one_or_the_other_whole(
    app: Flask, secret: str, world: Database, n: int
) -> None:
    # given
    before = links(world, f"M{n}")
    done = send(app, secret, MERGE, merge_fields(n))["merge"]["id"]
    undo = {"idempotencyKey": uuid.uuid4().hex, "mergeId": done}
    # when
    unmerged, merged = together(
        [
            lambda: send(app, secret, UNMERGE, undo),
            lambda: send(app, secret, MERGE, merge_fields(n)),
        ]
    )
    # then: the unmerge always holds; the new merge happened after it, or found M merged
    assert unmerged["userErrors"] == []
    live = world.read(
        "MATCH (g:Merge {merged: $m}) WHERE g.undoneAt IS NULL RETURN count(g) AS n",
        {"m": f"M{n}"},
    )[0]["n"]
    if merged["userErrors"]:
        assert [e["code"] for e in merged["userErrors"]] == ["CONFLICT"]
        assert live == 0
        assert links(world, f"M{n}") == before
    else:
        assert live == 1
        assert only_a_tombstone(world, f"M{n}")


MARK = """
mutation($input: MarkContactedInput!) { markContacted(input: $input) {
  interaction { id } customer { id } userErrors { field code } } }
"""
UPDATE_CASE = """
mutation($input: UpdateCaseInput!) { updateCase(input: $input) {
  case { id } customer { id } userErrors { field code } } }
"""


@pytest.mark.parametrize("n", [8, 9, 10])
def test_a_queue_item_marked_and_a_case_updated_while_their_customer_is_merged(
    app: Flask, secret: str, world: Database, n: int
) -> None:
    # when: the merge, an update sent about the merged customer's parcel, and their case
    # closed, at once
    mark = {"idempotencyKey": uuid.uuid4().hex, "item": {"type": "SHIPMENT", "id": f"SH-M{n}"},
            "channel": "EMAIL", "summary": "delayed at the depot"}  # fmt: skip
    close = {"idempotencyKey": uuid.uuid4().hex, "caseId": f"K-M{n}", "status": "CLOSED"}
    merged, marked, closed = together([
        lambda: send(app, secret, MERGE, merge_fields(n)),
        lambda: send(app, secret, MARK, mark),
        lambda: send(app, secret, UPDATE_CASE, close),
    ])  # fmt: skip
    # then: merged whole, and each write is the survivor's (after the merge: the parcel and
    # the case are the survivor's by then) or the merged customer's moved by the merge
    assert merged["userErrors"] == []
    assert only_a_tombstone(world, f"M{n}")
    assert marked["userErrors"] == []
    assert closed["userErrors"] == []
    [owner] = world.read(
        "MATCH (c:Customer)-[:HAD]->(:Interaction {id: $i}) RETURN c.id AS id",
        {"i": marked["interaction"]["id"]},
    )
    assert owner["id"] == f"S{n}"
    [case] = world.read(
        "MATCH (c:Customer)-[:OPENED]->(k:Case {id: $k}) RETURN c.id AS id, k.status AS status,"
        " k.queueTier AS tier",
        {"k": f"K-M{n}"},
    )
    assert (case["id"], case["status"], case["tier"]) == (f"S{n}", "closed", None)
