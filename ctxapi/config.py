"""Settings, read once from environment variables (see README, "Configuration")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctxapi.limits import SETTINGS as LIMIT_SETTINGS
from ctxapi.limits import Limits
from ctxapi.thresholds import InsightsConfigError, Thresholds
from ctxapi.webnames import hosts_from, origins_from

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_home() -> Path:
    """``.ctxapi/`` in the source checkout when running from one, else in the working folder."""
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / ".ctxapi"
    return Path.cwd() / ".ctxapi"


@dataclass(frozen=True)
class Settings:
    """Everything ctxapi can be told. ``neo4j_uri`` empty means: the managed local Neo4j."""

    neo4j_uri: str = ""
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    # Driver time limits: connect + acquire + retry stay well below the gunicorn worker
    # timeout, so an outage gives quick 503s instead of killed workers.
    neo4j_connection_timeout: float = 2.0
    neo4j_acquisition_timeout: float = 2.0
    neo4j_max_retry_time: float = 5.0
    neo4j_pool_size: int = 50
    query_timeout: float = 10.0
    # A read unanswered this long checks that Neo4j is there at all (ctxapi.liveness): a
    # paused or cut-off Neo4j gives 503 within about twice this, not at query_timeout.
    stall_probe: float = 1.0
    # A read of a committed query whose plan is being warmed again (Neo4j restarted) waits this
    # long for the warm-up, then answers 503 with Retry-After (ctxapi.warmup).
    warming_wait: float = 1.5
    # Planning a big query cold can take longer than query_timeout: the warm-up may wait this.
    warmup_timeout: float = 120.0
    home: Path = field(default_factory=default_home)
    local_port: int = 7687
    local_heap: str = "2g"
    local_pagecache: str = "4g"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 3
    # Threads per worker (gthread): a slow client holds one thread, not a worker.
    threads: int = 8
    worker_timeout: int = 30
    # gunicorn's access log: "all" requests, "errors" (failed or slow ones only), or "off".
    access_log: str = "all"
    readiness_timeout: float = 1.5
    # Browsers (ctxapi.browsers): the origins whose pages may call the API (CORS; none: no
    # page may), and the names a request's Host may give (DNS rebinding; "*": any, unsafe).
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    # The desktop (ctxapi.desk): the origins whose pages may frame /card and /queue (none:
    # only ctxapi's own); live updates: how often a process polls for changes, how long one
    # stream lasts before the page reconnects, how many a process follows (each holds a thread).
    frame_ancestors: tuple[str, ...] = ()
    live_poll_seconds: float = 0.5
    live_stream_seconds: float = 300.0
    live_max_streams: int = 4

    phone_region: str = "US"
    max_record_bytes: int = 1_000_000  # `seed load`: a longer line is a reject
    debug: bool = False
    # Queries made only of compiled fields skip graphql-core's execution (ctxapi.graphql.fast);
    # off: every query goes through graphql-core (the answers are the same, byte for byte).
    fast_path: bool = True
    insights: Thresholds = field(default_factory=Thresholds)
    limits: Limits = field(default_factory=Limits)
    # A fixed "now" for insights and the proactive queue (demos, tests); empty: the real time.
    clock: str = ""
    # "production" turns GraphiQL off; anything else is development.
    env: str = "development"
    # How long a process trusts what Neo4j said about an API key (found, revoked, unknown).
    key_cache_seconds: float = 10.0
    # The audit log (ctxapi.access.audit); empty: .ctxapi/audit.jsonl. audit_stdout echoes it.
    audit_log: str = ""
    audit_stdout: bool = False
    # An API key GraphiQL sends for you (`make run` sets its development key); not in production.
    graphiql_key: str = ""
    # Erasure (docs/write-back.md, "Erasure"): the secret that keys the tombstones' hashes
    # (never changes once used; Neo4j keeps only a check of it), and whether an erased
    # customer's orders, contacts and feedback stay, de-identified, for aggregates.
    erasure_pepper: str = field(default="", repr=False)
    erasure_keep_aggregates: bool = True
    # Webhooks (docs/webhooks.md): a failed delivery is tried again after about
    # webhook_backoff * 2^(attempt-1) seconds (at most webhook_max_backoff, with jitter), and
    # after webhook_max_attempts it is a dead letter; a receiver gets webhook_connect_timeout
    # to accept the connection and webhook_read_timeout to answer. Dispatchers look for new
    # deliveries every webhook_poll seconds and for queue items fallen due every
    # webhook_due_scan seconds.
    webhook_backoff: float = 30.0
    webhook_max_backoff: float = 21600.0
    webhook_max_attempts: int = 12
    webhook_connect_timeout: float = 3.0
    webhook_read_timeout: float = 10.0
    webhook_poll: float = 1.0
    webhook_due_scan: float = 60.0
    # Gladly (docs/gladly.md): a signed lookup whose gladly-time is further than this many
    # seconds from now, either way, is refused as a replay.
    gladly_signature_window: float = 300.0

    @property
    def production(self) -> bool:
        return self.env == "production"

    def audit_path(self) -> Path:
        """Where the audit log is appended."""
        return Path(self.audit_log) if self.audit_log else self.home / "audit.jsonl"

    def pepper(self) -> str | None:
        """The erasure pepper: ``CTXAPI_ERASURE_PEPPER``; for the managed local Neo4j (a
        development graph) without it, its own, made once and kept in ``erasure-pepper``
        (0600) beside it; else None (erasing fails and says why)."""
        if self.erasure_pepper or not self.uses_local_neo4j:
            return self.erasure_pepper or None
        path = self.home / "erasure-pepper"
        if not path.exists():
            import secrets

            self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
            draft = self.home / f".erasure-pepper-{os.getpid()}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            with os.fdopen(os.open(draft, flags, 0o600), "w") as file:
                file.write(secrets.token_hex(32) + "\n")
            try:  # whole or not at all; a pepper another process made first wins
                os.link(draft, path)
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text().strip()

    def now(self) -> str:
        """The time insights are computed at, as ISO-8601 text."""
        return self.clock or datetime.now(UTC).isoformat()

    @property
    def uses_local_neo4j(self) -> bool:
        return not self.neo4j_uri

    def local_neo4j(self) -> Any:
        """The managed local instance these settings describe."""
        from ctxapi.neo4j_local import LocalNeo4j

        return LocalNeo4j(
            self.home,
            port=self.local_port,
            heap=self.local_heap,
            pagecache=self.local_pagecache,
            password=self.neo4j_password or None,
        )

    def resolved(self) -> Settings:
        """Fill in the URI and password of the local instance when no NEO4J_URI is given."""
        if not self.uses_local_neo4j:
            return self
        local = self.local_neo4j()
        return replace(self, neo4j_uri=local.uri, neo4j_password=local.password())

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Settings:
        return replace(self, **dict(overrides or {}))


# Environment variable → (field, converter). Unknown CTXAPI_* variables are ignored.
def _positive(value: Any) -> Any:
    if value <= 0:
        raise ValueError("give a number above 0")
    return value


def _positive_float(value: str) -> float:
    return float(_positive(float(value)))


def _positive_int(value: str) -> int:
    return int(_positive(int(value)))


_ENV: dict[str, tuple[str, Any]] = {
    "NEO4J_URI": ("neo4j_uri", str),
    "NEO4J_USER": ("neo4j_user", str),
    "NEO4J_USERNAME": ("neo4j_user", str),
    "NEO4J_PASSWORD": ("neo4j_password", str),
    "NEO4J_DATABASE": ("neo4j_database", str),
    "CTXAPI_NEO4J_CONNECTION_TIMEOUT": ("neo4j_connection_timeout", float),
    "CTXAPI_NEO4J_ACQUISITION_TIMEOUT": ("neo4j_acquisition_timeout", float),
    "CTXAPI_NEO4J_MAX_RETRY_TIME": ("neo4j_max_retry_time", float),
    "CTXAPI_NEO4J_POOL_SIZE": ("neo4j_pool_size", int),
    "CTXAPI_QUERY_TIMEOUT": ("query_timeout", float),
    "CTXAPI_STALL_PROBE": ("stall_probe", float),
    "CTXAPI_WARMING_WAIT": ("warming_wait", float),
    "CTXAPI_WARMUP_TIMEOUT": ("warmup_timeout", float),
    "CTXAPI_HOME": ("home", Path),
    "CTXAPI_NEO4J_PORT": ("local_port", int),
    "CTXAPI_NEO4J_HEAP": ("local_heap", str),
    "CTXAPI_NEO4J_PAGECACHE": ("local_pagecache", str),
    "HOST": ("host", str),
    "PORT": ("port", int),
    "CTXAPI_WORKERS": ("workers", int),
    "CTXAPI_THREADS": ("threads", int),
    "CTXAPI_WORKER_TIMEOUT": ("worker_timeout", int),
    "CTXAPI_ACCESS_LOG": ("access_log", lambda value: _one_of(value, ("all", "errors", "off"))),
    "CTXAPI_CORS_ORIGINS": ("cors_origins", origins_from),
    "CTXAPI_ALLOWED_HOSTS": ("allowed_hosts", hosts_from),
    "CTXAPI_FRAME_ANCESTORS": ("frame_ancestors", origins_from),
    "CTXAPI_LIVE_POLL_SECONDS": ("live_poll_seconds", _positive_float),
    "CTXAPI_LIVE_STREAM_SECONDS": ("live_stream_seconds", _positive_float),
    "CTXAPI_LIVE_MAX_STREAMS": ("live_max_streams", _positive_int),
    "CTXAPI_PHONE_REGION": ("phone_region", str),
    "CTXAPI_MAX_RECORD_BYTES": ("max_record_bytes", int),
    "CTXAPI_DEBUG": ("debug", lambda value: value.lower() in {"1", "true", "yes", "on"}),
    "CTXAPI_FAST_PATH": ("fast_path", lambda value: _switch(value)),
    "CTXAPI_INSIGHTS": ("insights", lambda value: Thresholds.from_file(Path(value))),
    "CTXAPI_NOW": ("clock", lambda value: _aware(value).isoformat()),
    "CTXAPI_ENV": ("env", lambda value: _one_of(value, ("development", "production"))),
    "CTXAPI_KEY_CACHE_SECONDS": ("key_cache_seconds", float),
    "CTXAPI_AUDIT_LOG": ("audit_log", str),
    "CTXAPI_GRAPHIQL_KEY": ("graphiql_key", str),
    "CTXAPI_AUDIT_STDOUT": (
        "audit_stdout",
        lambda value: value.lower() in {"1", "true", "yes", "on"},
    ),
    "CTXAPI_ERASURE_PEPPER": ("erasure_pepper", lambda value: _pepper(value)),
    "CTXAPI_ERASURE_KEEP_AGGREGATES": ("erasure_keep_aggregates", lambda value: _switch(value)),
    "CTXAPI_WEBHOOK_BACKOFF": ("webhook_backoff", _positive_float),
    "CTXAPI_WEBHOOK_MAX_BACKOFF": ("webhook_max_backoff", _positive_float),
    "CTXAPI_WEBHOOK_MAX_ATTEMPTS": ("webhook_max_attempts", _positive_int),
    "CTXAPI_WEBHOOK_CONNECT_TIMEOUT": ("webhook_connect_timeout", _positive_float),
    "CTXAPI_WEBHOOK_READ_TIMEOUT": ("webhook_read_timeout", _positive_float),
    "CTXAPI_WEBHOOK_POLL": ("webhook_poll", _positive_float),
    "CTXAPI_WEBHOOK_DUE_SCAN": ("webhook_due_scan", _positive_float),
    "CTXAPI_GLADLY_SIGNATURE_WINDOW": ("gladly_signature_window", _positive_float),
}

#: Settings whose values an error message must not repeat.
_SECRETS = {"erasure_pepper"}
#: The shortest erasure pepper accepted: 32 characters (``openssl rand -hex 32`` gives 64).
MIN_PEPPER = 32


def _pepper(value: str) -> str:
    if len(value) < MIN_PEPPER:
        raise ValueError(f"give at least {MIN_PEPPER} random characters (openssl rand -hex 32)")
    return value


def _switch(value: str) -> bool:
    lowered = value.lower()
    if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise ValueError("use on or off")
    return lowered in {"1", "true", "yes", "on"}


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"use one of {', '.join(allowed)}")
    return value


def _aware(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-11-23T12:00:00Z")
    return moment


class ConfigError(ValueError):
    """An environment variable holds a value ctxapi cannot use."""


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from environment variables (``os.environ`` by default)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, (attribute, convert) in _ENV.items():
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[attribute] = convert(raw)
        except InsightsConfigError as error:
            raise ConfigError(f"{name}: {error}") from None
        except ValueError as error:
            shown = "(secret)" if attribute in _SECRETS else repr(raw)
            raise ConfigError(f"{name}={shown} is not valid: {error}") from None
    bounds: dict[str, int] = {}
    for attribute, name in LIMIT_SETTINGS.items():
        raw = environ.get(name)
        if raw:
            try:
                bounds[attribute] = int(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not valid: not a whole number") from None
            if bounds[attribute] < 1:
                raise ConfigError(f"{name}={raw!r} is not valid: it must be at least 1")
    if bounds:
        values["limits"] = replace(Limits(), **bounds)
    return Settings(**values)
