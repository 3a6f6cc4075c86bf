"""Browsers: CORS only for listed origins, and the Host check against DNS rebinding."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ctxapi import create_app
from ctxapi.browsers import EXPOSE_HEADERS, BrowserRules
from ctxapi.config import ConfigError, Settings, from_env
from ctxapi.neo4j_local import free_port

DESK = "https://desk.example.com"
QUERY = {"query": "{ __typename }"}
PREFLIGHT = {
    "Origin": DESK,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def client_for(settings: Settings, **overrides: Any) -> FlaskClient:
    return create_app(replace(settings, **overrides)).test_client()


def refused_for_its_host(response: TestResponse) -> bool:
    """Whether the Host check refused the request (any other answer: it got past the check)."""
    body = response.json if response.is_json else None
    return (
        response.status_code == 400
        and body is not None
        and body["errors"][0]["message"] == "Host header not allowed; set CTXAPI_ALLOWED_HOSTS"
    )


def cors_headers(response: TestResponse) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.lower().startswith("access-control-")
    }


# -- CORS ------------------------------------------------------------------------------------
def test_without_listed_origins_no_page_gets_cors_approval(client: FlaskClient) -> None:
    # when
    request = client.post("/graphql", json=QUERY, headers={"Origin": DESK})
    preflight = client.options("/graphql", headers=PREFLIGHT)
    # then
    assert request.status_code < 500
    assert cors_headers(request) == {}
    assert "Origin" not in request.vary
    assert preflight.status_code == 403
    assert cors_headers(preflight) == {}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": QUERY},
        {"data": "{not json", "content_type": "application/json"},
        {"json": {"query": "{ apiVersion }" + " " * 70_000}},
    ],
    ids=["query", "malformed", "too-large"],
)
def test_a_listed_origin_may_read_any_answer(
    settings: Settings, db: object, kwargs: dict[str, Any]
) -> None:
    # given
    client = client_for(settings, cors_origins=("http://localhost:3000", DESK))
    # when: whatever the status (an API key may soon be required: 401 then)
    response = client.post("/graphql", headers={"Origin": DESK}, **kwargs)
    # then
    assert response.headers["Access-Control-Allow-Origin"] == DESK
    assert "Origin" in response.vary
    assert response.headers["Access-Control-Expose-Headers"] == EXPOSE_HEADERS
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_listed_origin_may_read_an_outage(settings: Settings) -> None:
    # given an API whose Neo4j is not there
    unreachable = replace(
        settings, neo4j_uri=f"neo4j://127.0.0.1:{free_port()}", neo4j_password="x"
    )
    client = client_for(unreachable, cors_origins=(DESK,))
    # when
    response = client.post(
        "/graphql", json={"query": "{ database { version } }"}, headers={"Origin": DESK}
    )
    # then
    assert response.status_code in {401, 503}
    assert response.headers["Access-Control-Allow-Origin"] == DESK
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_the_exposed_headers_are_those_clients_need() -> None:
    # when
    exposed = EXPOSE_HEADERS.split(", ")
    # then
    assert exposed == [
        "X-Request-Id",
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "WWW-Authenticate",
    ]


def test_an_unlisted_origin_gets_no_cors_headers(settings: Settings, db: object) -> None:
    # given
    client = client_for(settings, cors_origins=(DESK,))
    # when
    response = client.post("/graphql", json=QUERY, headers={"Origin": "https://evil.example"})
    # then: the browser keeps the answer from the page; a cache keeps answers per origin
    assert cors_headers(response) == {}
    assert "Origin" in response.vary


def test_a_preflight_from_a_listed_origin_is_approved_without_credentials(
    settings: Settings,
) -> None:
    # given
    client = client_for(settings, cors_origins=(DESK,))
    # when: a browser's preflight carries no Authorization header
    response = client.options("/graphql", headers=PREFLIGHT)
    # then
    assert response.status_code == 204
    assert response.get_data() == b""
    assert cors_headers(response) == {
        "Access-Control-Allow-Origin": DESK,
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-Id",
        "Access-Control-Max-Age": "600",
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
    }
    assert "Origin" in response.vary
    assert response.headers["X-Request-Id"]


def test_a_preflight_from_an_unlisted_origin_is_403_forbidden(settings: Settings) -> None:
    # given
    client = client_for(settings, cors_origins=(DESK,))
    # when
    response = client.options(
        "/graphql", headers={**PREFLIGHT, "Origin": "https://desk.example.com.evil.example"}
    )
    # then
    assert response.status_code == 403
    assert cors_headers(response) == {}
    assert response.json == {
        "errors": [
            {
                "message": "Origin not allowed; set CTXAPI_CORS_ORIGINS",
                "extensions": {"code": "FORBIDDEN"},
            }
        ],
        "extensions": {"requestId": response.headers["X-Request-Id"]},
    }


def test_an_options_request_that_is_no_preflight_is_left_to_the_route(
    settings: Settings,
) -> None:
    # given
    client = client_for(settings, cors_origins=(DESK,))
    # when
    response = client.options("/graphql", headers={"Origin": DESK})
    # then
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    assert "Access-Control-Allow-Methods" not in response.headers


# -- the Host check --------------------------------------------------------------------------
def test_a_request_for_another_host_is_400_bad_request(client: FlaskClient) -> None:
    # when: a page of evil.example, its name re-pointed at this API (DNS rebinding)
    response = client.post(
        "/graphql",
        json=QUERY,
        base_url="http://evil.example:8000",
        headers={"X-Request-Id": "rebound-1"},
    )
    # then
    assert response.status_code == 400
    assert response.json == {
        "errors": [
            {
                "message": "Host header not allowed; set CTXAPI_ALLOWED_HOSTS",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ],
        "extensions": {"requestId": "rebound-1"},
    }
    assert response.headers["X-Request-Id"] == "rebound-1"


def test_the_host_check_comes_before_a_preflight(settings: Settings) -> None:
    # given
    client = client_for(settings, cors_origins=(DESK,))
    # when
    response = client.options("/graphql", headers=PREFLIGHT, base_url="http://evil.example")
    # then
    assert refused_for_its_host(response)
    assert "Access-Control-Allow-Methods" not in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_probes_are_answered_whatever_the_host(client: FlaskClient, path: str) -> None:
    # when: a load balancer probes by IP address
    response = client.get(path, base_url="http://10.1.2.3:8000")
    # then
    assert response.status_code == 200


def test_readyz_is_answered_whatever_the_host(client: FlaskClient) -> None:
    # when
    response = client.get("/readyz", base_url="http://10.1.2.3:8000")
    # then: ready or not, but not refused
    assert response.status_code in {200, 503}
    assert response.json is not None
    assert "status" in response.json


@pytest.mark.parametrize(
    "base_url", ["http://localhost", "http://127.0.0.1:8000", "http://[::1]:8000"]
)
def test_the_default_hosts_are_the_loopback_ones(client: FlaskClient, base_url: str) -> None:
    # when
    response = client.post("/graphql", json=QUERY, base_url=base_url)
    # then
    assert not refused_for_its_host(response)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost", True),
        ("LOCALHOST:8000", True),
        ("localhost.", True),
        ("127.0.0.1:80", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("::1", False),  # not a Host header: an IPv6 address goes in brackets
        ("localhost.evil.example", False),
        ("evil.example", False),
        ("localhost:8000@evil.example", False),
        ("", False),
    ],
)
def test_the_host_is_compared_without_its_port(host: str, allowed: bool) -> None:
    # given
    rules = BrowserRules(Settings())
    # when
    answer = rules.host_allowed(host)
    # then
    assert answer is allowed


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("example.com", True),
        ("api.example.com:443", True),
        ("a.b.example.com", True),
        ("api.example.org", True),
        ("badexample.com", False),
        ("example.com.evil.example", False),
        ("org", False),
        ("localhost", False),
    ],
)
def test_a_leading_dot_allows_a_domain_and_its_subdomains(host: str, allowed: bool) -> None:
    # given
    rules = BrowserRules(Settings(allowed_hosts=(".example.com", "api.example.org")))
    # when
    answer = rules.host_allowed(host)
    # then
    assert answer is allowed


def test_a_listed_domain_is_served(settings: Settings, db: object) -> None:
    # given
    client = client_for(settings, allowed_hosts=(".example.com",))
    # when
    served = client.post("/graphql", json=QUERY, base_url="https://api.example.com")
    refused = client.post("/graphql", json=QUERY, base_url="http://localhost")
    # then
    assert not refused_for_its_host(served)
    assert refused_for_its_host(refused)


def test_a_star_turns_the_host_check_off(settings: Settings, db: object) -> None:
    # given
    client = client_for(settings, allowed_hosts=("*",))
    # when
    response = client.post("/graphql", json=QUERY, base_url="http://anything.example")
    # then
    assert not refused_for_its_host(response)


# -- settings --------------------------------------------------------------------------------
def test_by_default_no_origin_and_only_loopback_hosts() -> None:
    # when
    settings = from_env({})
    # then
    assert settings.cors_origins == ()
    assert settings.allowed_hosts == ("localhost", "127.0.0.1", "::1")


def test_the_origins_are_read_trimmed_as_browsers_write_them() -> None:
    # when
    settings = from_env(
        {
            "CTXAPI_CORS_ORIGINS": (
                " https://desk.example.com , HTTPS://Agent.Example.com:443,"
                "http://localhost:3000,,http://[::1]:8080"
            )
        }
    )
    # then
    assert settings.cors_origins == (
        DESK,
        "https://agent.example.com",
        "http://localhost:3000",
        "http://[::1]:8080",
    )


@pytest.mark.parametrize(
    "origin",
    [
        "https://desk.example.com/",
        "https://desk.example.com/app",
        "desk.example.com",
        "*",
        "null",
        "https://desk.example.com:0",
        "https://desk.example.com:99999",
        "https://user@desk.example.com",
    ],
)
def test_an_origin_that_is_not_one_names_the_variable(origin: str) -> None:
    # when / then
    with pytest.raises(ConfigError, match=r"CTXAPI_CORS_ORIGINS=.* is not valid: .* not an origin"):
        from_env({"CTXAPI_CORS_ORIGINS": f"http://localhost:3000,{origin}"})


def test_the_hosts_are_read_trimmed_and_lower_cased() -> None:
    # when
    settings = from_env({"CTXAPI_ALLOWED_HOSTS": " API.example.com, .example.org ,[::1],10.0.0.5"})
    # then
    assert settings.allowed_hosts == ("api.example.com", ".example.org", "::1", "10.0.0.5")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("https://api.example.com", "not a host name"),
        ("api.example.com:8000", "not a host name"),
        ("api.example.com/graphql", "not a host name"),
        ("localhost,.", "not a host name"),
        (" , ", "at least one host"),
    ],
)
def test_a_host_that_is_not_one_names_the_variable(value: str, fragment: str) -> None:
    # when / then
    with pytest.raises(ConfigError, match=f"CTXAPI_ALLOWED_HOSTS=.* is not valid: .*{fragment}"):
        from_env({"CTXAPI_ALLOWED_HOSTS": value})
