"""The benchmark's peer (bench/peer.py): @neo4j/graphql over a tiny dataset in a Neo4j of its
own (with APOC core, like the benchmark's), answering as ctxapi does."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.peer import Peer, alternate, peer_caller, peer_markdown, peer_raw_caller
from bench.peer_answers import PEER_QUERY, check_equivalence, compare, first_emails
from bench.peer_install import PeerNeo4j
from bench.run import HEADLINE, Plan, ensure_data, graphql_poster, load
from ctxapi import create_app
from ctxapi.access.keys import KeyStore, Scope
from ctxapi.config import Settings, default_home
from ctxapi.db import Database
from ctxapi.migrations import apply
from ctxapi.neo4j_local import free_port
from tests.conftest import TEST_HEAP, TEST_PAGECACHE, keyed

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("node") and shutil.which("npm")),
        reason="the peer needs Node.js 20 or later with npm, and this machine has none",
    ),
]

CUSTOMERS = 30
#: A GraphQL request (query, variables) → (status, body).
Asker = Callable[[str, dict[str, Any]], tuple[int, bytes]]


@dataclass(frozen=True)
class Served:
    ctxapi: Asker  # the app through Flask's test client: the same answers as over gunicorn
    peer: Peer
    folder: Path
    settings: Settings


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """ctxapi and the peer (1 Node process) over one tiny loaded dataset, in a throwaway Neo4j
    with APOC core in its own plugins folder."""
    root = tmp_path_factory.mktemp("peer")
    home = Path(os.environ.get("CTXAPI_HOME") or default_home())
    neo4j = PeerNeo4j(
        home, root=root / "neo4j", port=free_port(), heap=TEST_HEAP, pagecache=TEST_PAGECACHE
    )
    neo4j.start(ephemeral=True, quiet=True)
    try:
        settings = Settings(
            neo4j_uri=neo4j.uri,
            neo4j_password=neo4j.password(),
            audit_log=str(root / "audit.jsonl"),
        )
        with closing(Database(settings)) as database:
            apply(database)
            key, _ = KeyStore(database).create("tests-peer", list(Scope), None)
        folder = ensure_data(Plan([CUSTOMERS], 7, 0, 0, 1, root, root), CUSTOMERS)
        (root / "load").mkdir()
        load(settings, folder, root / "load")
        peer = Peer(settings, 1, root / "peer.log")
        try:
            yield Served(flask_poster(settings, key), peer, folder, settings)
        finally:
            peer.stop()
    finally:
        neo4j.stop(quiet=True)


def flask_poster(settings: Settings, key: str) -> Asker:
    client = keyed(create_app(settings).test_client(), key)

    def post(query: str, variables: dict[str, Any]) -> tuple[int, bytes]:
        answer = client.post("/graphql", json={"query": query, "variables": variables})
        return answer.status_code, answer.data

    return post


def test_the_peer_answers_as_ctxapi_does_for_every_customer(served: Served) -> None:
    # given ctxapi and the peer over the same loaded data
    customers = first_emails(served.folder, CUSTOMERS)
    # when both are asked for each customer and the answers compared
    found = check_equivalence(served.ctxapi, graphql_poster(served.peer), customers)
    # then every answer is equal after normalising the representation
    assert found == {"customers": CUSTOMERS, "equal": CUSTOMERS}
    # and the answers were not empty: orders came back
    answer = orjson.loads(served.peer.post("/graphql", _body(customers[0][1]))[1])
    customer = answer["data"]["identities"][0]["customers"][0]
    assert customer["id"] == customers[0][0]
    assert customer["ordersConnection"]["edges"]


def test_a_changed_value_or_a_missing_item_is_a_difference(
    served: Served,
) -> None:
    # given both answers for one customer with orders
    _, email = first_emails(served.folder, 1)[0]
    ours = orjson.loads(served.ctxapi(HEADLINE.read_text(), {"email": email})[1])
    theirs = orjson.loads(served.peer.post("/graphql", _body(email))[1])
    assert compare(ours, theirs) is None
    # when a count, an amount and a list differ in the peer's
    counted = copy.deepcopy(theirs)
    counted["data"]["identities"][0]["customers"][0]["orderCount"] += 1
    priced = copy.deepcopy(theirs)
    order = priced["data"]["identities"][0]["customers"][0]["ordersConnection"]["edges"][0]
    order["node"]["totalMinor"] += 1
    shorter = copy.deepcopy(theirs)
    shorter["data"]["identities"][0]["customers"][0]["identitiesConnection"]["edges"].pop()
    # then each is found, by where it is
    assert compare(ours, counted) == ".stats.orderCount"
    assert compare(ours, priced) == ".orders.edges[0].node.total.amount"
    assert compare(ours, shorter) == ".identities (2 items from ctxapi, 1 from the peer)"


def test_the_peer_and_its_generated_cypher_are_timed_interleaved(served: Served) -> None:
    # given the peer over HTTP, and its generated Cypher through the Python driver alone
    keys = [email for _, email in first_emails(served.folder, 12)]
    text, params, email_param = served.peer.generated_cypher(keys[0])
    raw, close = peer_raw_caller(served.settings, text, params, email_param)
    callers = {"peer": peer_caller(served.peer), "raw": raw}
    # when both are asked for every customer at concurrency 8, in rounds of 4
    try:
        found = alternate(callers, keys, 8, 4)
    finally:
        close()
    # then every request was answered by both, the raw query finding each customer
    for name in callers:
        assert found[name]["requests"] == 12
        assert found[name]["errors"] == 0
        assert found[name]["requests_per_s"] > 0
    assert text.startswith("CYPHER 5")
    assert params[email_param] == keys[0]


def test_the_report_has_the_peer_section_with_its_aims() -> None:
    # given one dataset's peer figures
    run = {"requests": 10, "errors": 0, "p50_ms": 4.0, "p95_ms": 6.0, "p99_ms": 8.0,
           "mean_ms": 4.5, "requests_per_s": 200.0}  # fmt: skip
    slower = run | {"p50_ms": 10.0, "p99_ms": 20.0, "requests_per_s": 90.0}
    peer = {
        "processes": 4,
        "versions": {"@neo4j/graphql": "7.6.3", "node": "20.1.0", "graphql": "16.13.2",
                     "neo4j-driver": "6.3.0"},
        "equivalence": {"customers": 50, "equal": 50},
        "c1": {"ctxapi": run, "peer": slower}, "c8": {"ctxapi": run, "peer": slower},
        "raw_c1": {"ctxapi": run, "peer": run},
        "nagle": {"requests": 200, "p50_ms": 10.0, "nagle_p50_ms": 48.0},
        "p50_ratio_c1": 0.4, "p99_ratio_c1": 0.4, "throughput_ratio_c8": 2.22,
        "raw_p50_ratio": 1.0, "aims": {"p50_ratio_c1": True, "throughput_ratio_c8": True},
    }  # fmt: skip
    # when
    text = "\n".join(peer_markdown([{"customers": 10_000, "peer": peer}, {"customers": 5}]))
    # then
    assert "## The peer: @neo4j/graphql 7.6.3" in text
    assert "| 10,000 | 4.0 / 8.0 · 10.0 / 20.0 | 0.4 | 200.0 · 90.0 | 2.22 |" in text
    assert "- met: ctxapi/peer p50 ≤ 0.5 at concurrency 1 at 10,000 customers" in text
    assert "48.0 ms with Nagle's algorithm left on" in text
    assert "| 5 |" not in text


def _body(email: str, query: str = PEER_QUERY) -> bytes:
    return orjson.dumps({"query": query, "variables": {"email": email}})
