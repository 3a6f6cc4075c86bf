"""The names browsers send: origins (CORS) and hosts (the Host header), as settings spell them."""

from __future__ import annotations

import ipaddress
import re


def origins_from(value: str) -> tuple[str, ...]:
    """CTXAPI_CORS_ORIGINS: comma-separated ``scheme://host[:port]``, lower-cased and
    without the scheme's default port, as browsers send the Origin header."""
    origins = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        match = re.fullmatch(
            r"([a-z][a-z0-9+.-]*)://"  # scheme
            r"([a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])"  # name, IPv4 or [IPv6]
            r"(?::([0-9]{1,5}))?",  # port
            entry.lower(),
        )
        port = int(match[3]) if match and match[3] else None
        if match is None or port == 0 or (port or 0) > 65535:
            raise ValueError(
                f"{entry!r} is not an origin: write scheme://host[:port], e.g. "
                "https://desk.example.com, without a path (not even a final /)"
            )
        scheme, host = match[1], match[2]
        if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
            origins.append(f"{scheme}://{host}")
        else:
            origins.append(f"{scheme}://{host}:{port}")
    return tuple(origins)


def hosts_from(value: str) -> tuple[str, ...]:
    """CTXAPI_ALLOWED_HOSTS: comma-separated host names or IP addresses, lower-cased;
    ``.example.com`` is it and its subdomains, ``*`` any host."""
    hosts = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        host = entry.lower().rstrip(".")  # a final dot names the same host
        try:
            if ":" in host:
                host = str(ipaddress.IPv6Address(host.removeprefix("[").removesuffix("]")))
            elif not re.fullmatch(r"\*|\.?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*", host):
                raise ValueError(host)
        except ValueError:
            raise ValueError(
                f"{entry!r} is not a host name: write names or addresses without a scheme, "
                "port or path, e.g. api.example.com,.example.com,10.0.0.5"
            ) from None
        hosts.append(host)
    if not hosts:
        raise ValueError("name at least one host (or *, any host: unsafe)")
    return tuple(hosts)
