"""`GET /metrics`: requests, latency, refusals, Neo4j errors, warm-up; and the loader's textfile."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from ctxapi import create_app
from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.metrics import operation_label
from ctxapi.neo4j_local import free_port
from tests.conftest import UNKNOWN_KEY, keyed
from tests.seeding import seed_load, write_lines
from tests.test_serving import _request, serving

EDITION = "query Edition { database { edition } }"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with ``labels`` in an exposition, 0 when absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def test_a_query_shows_up_counted_by_operation_with_its_latency(
    client: FlaskClient, db: Database
) -> None:
    # given
    before = scrape(client)
    # when
    answered = client.post("/graphql", json={"query": EDITION, "operationName": "Edition"})
    anonymous = client.post("/graphql", json={"query": "{ apiVersion }"})
    after = scrape(client)
    # then
    assert (answered.status_code, anonymous.status_code) == (200, 200)
    name = "ctxapi_graphql_requests_total"
    for operation in ("Edition", "anonymous"):
        counted = sample(after, name, operation=operation, status="200")
        assert counted - sample(before, name, operation=operation, status="200") == 1
    histogram = "ctxapi_graphql_request_duration_seconds"
    count = sample(after, histogram + "_count", operation="Edition")
    assert count - sample(before, histogram + "_count", operation="Edition") == 1
    assert sample(after, histogram + "_bucket", operation="Edition", le="10.0") >= 1
    assert sample(after, histogram + "_bucket", operation="Edition", le="0.001") <= count


def test_metrics_health_and_readiness_are_not_counted_as_requests(client: FlaskClient) -> None:
    # given
    before = scrape(client)
    # when
    for path in ("/metrics", "/healthz", "/readyz"):
        client.get(path)
    after = scrape(client)
    # then no request sample moved
    requests = [
        line for line in after.splitlines() if line.startswith("ctxapi_graphql_requests_total")
    ]
    for line in requests:
        assert line in before.splitlines()


@pytest.mark.parametrize(
    ("name", "label"),
    [
        (None, "anonymous"),
        ("Who", "Who"),
        ("x" * 65, "other"),
        ("ann@example.com", "other"),
        ("1st", "other"),
    ],
)
def test_operation_names_are_labels_of_bounded_cardinality(name: str | None, label: str) -> None:
    # given a name a client sent
    # when
    labelled = operation_label(name)
    # then
    assert labelled == label


def test_a_query_too_complex_is_counted_under_its_limit(
    settings: Settings, db: Database, api_key: str
) -> None:
    # given an API that allows three fields in a document
    from dataclasses import replace

    from ctxapi.limits import Limits

    few = keyed(create_app(replace(settings, limits=Limits(max_fields=3))).test_client(), api_key)
    four = "{ a: apiVersion b: apiVersion c: apiVersion d: apiVersion }"
    before = sample(scrape(few), "ctxapi_graphql_too_complex_total", limit="max_fields")
    # when
    statuses = [few.post("/graphql", json={"query": four}).status_code for _ in range(2)]
    after = scrape(few)
    # then each refusal counts, the cached one too, and the request under its status
    assert statuses == [400, 400]
    assert sample(after, "ctxapi_graphql_too_complex_total", limit="max_fields") - before == 2
    assert sample(after, "ctxapi_graphql_requests_total", operation="anonymous", status="400") >= 2


def test_an_unreachable_neo4j_counts_an_unavailable_error() -> None:
    # given
    settings = Settings(neo4j_uri=f"neo4j://127.0.0.1:{free_port()}", neo4j_password="x")
    client = keyed(create_app(settings).test_client(), UNKNOWN_KEY)
    before = sample(scrape(client), "ctxapi_neo4j_errors_total", kind="unavailable")
    # when
    response = client.post("/graphql", json={"query": EDITION})
    after = scrape(client)
    # then
    assert response.status_code == 503
    assert sample(after, "ctxapi_neo4j_errors_total", kind="unavailable") - before == 1
    # (the key is checked before the document is read: the operation has no name yet)
    assert sample(after, "ctxapi_graphql_requests_total", operation="anonymous", status="503") >= 1


def test_the_warm_up_state_is_a_gauge(settings: Settings, db: Database) -> None:
    # given
    app = create_app(settings)
    # when
    app.extensions["ctxapi"].warmup.run()
    text = scrape(app.test_client())
    # then
    assert sample(text, "ctxapi_plans_warmup", state="warm") == 1
    assert sample(text, "ctxapi_plans_warmup", state="pending") == 0
    assert sample(text, "ctxapi_plans_ready") == 1


@pytest.mark.slow
def test_a_server_of_two_workers_sums_them_in_metrics(
    settings: Settings, db: Database, tmp_path: Path, api_key: str
) -> None:
    # given
    requests = 24
    with serving(settings, tmp_path, "--workers", "2") as served:
        # when
        statuses = [
            _request(served.base + "/graphql", {"query": EDITION}, key=api_key)[0]
            for _ in range(requests)
        ]
        texts = [_get(served.base + "/metrics") for _ in range(6)]
        warm = _warm_workers(served.base)
    # then every scrape, whichever worker answers it, shows every request
    assert statuses == [200] * requests
    for text in texts:
        count = sample(text, "ctxapi_graphql_requests_total", operation="Edition", status="200")
        assert count == requests
        histogram = "ctxapi_graphql_request_duration_seconds_count"
        assert sample(text, histogram, operation="Edition") == requests
    assert warm == 2


def test_seed_load_writes_its_counts_to_a_metrics_file(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    # given two brands and a line that is no JSON
    folder = tmp_path / "data"
    write_lines(
        folder,
        "brands.jsonl",
        '{"id": "metrics-a", "name": "A"}',
        '{"id": "metrics-b", "name": "B"}',
        "not json",
    )
    target = tmp_path / "textfile" / "ctxapi_seed.prom"
    # when
    outcome = seed_load(settings, tmp_path, folder, metrics_file=target, max_rejects=1)
    # then
    assert outcome.exit_code == 0, outcome.output
    text = target.read_text()
    assert sample(text, "ctxapi_seed_records_read", type="brands") == 3
    assert sample(text, "ctxapi_seed_records_loaded", type="brands") == 2
    assert sample(text, "ctxapi_seed_records_rejected", type="brands") == 1
    assert sample(text, "ctxapi_seed_running") == 0
    assert not [p for p in target.parent.iterdir() if p != target]  # no temporary files left


def _get(url: str) -> str:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return str(response.read().decode())


def _warm_workers(base: str, timeout: float = 60) -> float:
    """How many workers say their plans are warm, once both do (or the timeout passes)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        warm = sample(_get(base + "/metrics"), "ctxapi_plans_warmup", state="warm")
        if warm >= 2 or time.monotonic() > deadline:
            return warm
        time.sleep(0.3)
