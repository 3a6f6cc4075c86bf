"""What browsers may do: a Host check against DNS rebinding, and CORS for listed origins.

A page on an attacker's site can make a browser send requests to an API it cannot reach itself
(one on 127.0.0.1 or an internal network) under the attacker's own host name, re-pointed at the
API's address ("DNS rebinding"): such a request's Host header then names the attacker's host.
Requests whose Host is not in ``Settings.allowed_hosts`` get 400, except the probes of load
balancers and orchestrators (``EXEMPT_PATHS``), which often address a server by IP.

CORS is off unless ``Settings.cors_origins`` lists origins: only their pages may read the
API's answers. Credentials (cookies) are never allowed: clients send an ``Authorization:
Bearer`` API key. Preflights are answered before any other hook, authentication included
(browsers send them without the Authorization header); only the request id and the Host
check come first.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

from ctxapi import http
from ctxapi.config import Settings

#: Paths answered whatever the Host header says.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

ALLOW_METHODS = "GET, POST"
ALLOW_HEADERS = "Authorization, Content-Type, X-Request-Id"
EXPOSE_HEADERS = (
    "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
    "WWW-Authenticate"
)
#: Seconds a browser may reuse a preflight's answer.
MAX_AGE = "600"

# A Host header: a name or IPv4 address, or an IPv6 address in brackets; then maybe a port.
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9_.-]+))(?::[0-9]*)?")


def init_app(app: Flask, settings: Settings) -> None:
    """Check the Host of every request but the probes, then answer CORS preflights, right
    after the request gets its id (ctxapi.http, which must be set up first) and before
    anything else; add the CORS headers to every response."""
    rules = BrowserRules(settings)
    app.before_request(rules.check_host)
    app.before_request(rules.preflight)
    app.after_request(rules.cors_headers)


class BrowserRules:
    """The hooks, with the settings they apply."""

    def __init__(self, settings: Settings) -> None:
        names = [
            host.lower().removeprefix("[").removesuffix("]") for host in settings.allowed_hosts
        ]
        self.any_host = "*" in names
        self.hosts = frozenset(name for name in names if not name.startswith("."))
        self.domains = tuple(name for name in names if name.startswith("."))
        self.origins = frozenset(settings.cors_origins)

    def host_allowed(self, host: str) -> bool:
        """Whether a Host header names an allowed host; its port does not count."""
        if self.any_host:
            return True
        name = host_name(host)
        if not name:
            return False
        return name in self.hosts or any(
            name == domain[1:] or name.endswith(domain) for domain in self.domains
        )

    def check_host(self) -> Response | None:
        """400 for a request whose Host is not allowed (DNS rebinding), unless it is a probe."""
        if request.path in EXEMPT_PATHS or self.host_allowed(request.host):
            return None
        return http.error_response(
            400, "BAD_REQUEST", "Host header not allowed; set CTXAPI_ALLOWED_HOSTS"
        )

    def preflight(self) -> Response | None:
        """A CORS preflight: 204 with what the API accepts for a listed origin, else 403."""
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        if request.headers.get("Origin") not in self.origins:
            return http.error_response(
                403, "FORBIDDEN", "Origin not allowed; set CTXAPI_CORS_ORIGINS"
            )
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
        return response  # cors_headers adds the origin

    def cors_headers(self, response: Response) -> Response:
        """A listed origin may read the response, errors included, and the headers clients
        need (request id, rate limits, why authentication failed); no credentials ever."""
        if not self.origins:
            return response
        response.vary.add("Origin")
        origin = request.headers.get("Origin", "")
        if origin in self.origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return response


def host_name(host: str) -> str:
    """The host a Host header names, lower-cased, without port, brackets or final dot; empty
    for a malformed header."""
    match = _HOST.fullmatch(host.strip().lower())
    if match is None:
        return ""
    return match["ipv6"] or match["name"].rstrip(".")
