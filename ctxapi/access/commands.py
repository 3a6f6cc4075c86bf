"""``ctxapi keys …`` and ``ctxapi audit tail``: API keys and the audit log from the shell.

Key commands talk to Neo4j with the operator's database credentials (NEO4J_*), which is
what entitles them; each change is also written to the audit log.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from typing import Any

import click
import orjson

from ctxapi import config as configuration
from ctxapi.access.audit import AuditLog, AuditUnavailable, follow, tail
from ctxapi.access.keys import (
    SCOPE_MEANINGS,
    KeyInfo,
    KeyStore,
    KeyStoreError,
    Scope,
    development_key,
)
from ctxapi.commandline import settings as _settings

DEFAULT_RATE_LIMIT = 600
_SCOPES = "\n".join(f"  {scope.value:<19} {meaning}" for scope, meaning in SCOPE_MEANINGS.items())


@contextmanager
def _store() -> Iterator[tuple[KeyStore, AuditLog]]:
    from ctxapi.db import Database, DatabaseUnavailable

    settings = _settings().resolved()
    audit = AuditLog(settings.audit_path())
    try:
        with closing(Database(settings)) as db:
            yield KeyStore(db), audit
    except (KeyStoreError, DatabaseUnavailable, AuditUnavailable) as error:
        raise click.ClickException(str(error)) from None
    finally:
        audit.close()


def _noted(audit: AuditLog, event: str, info: KeyInfo) -> None:
    audit.record(
        event,
        key=info.name,
        keyId=info.id,
        scopes=list(info.scopes),
        brands=None if info.brands is None else list(info.brands),
        by=getpass.getuser(),
    )


def _describe(info: KeyInfo) -> str:
    brands = "every brand" if info.brands is None else "brand " + ", ".join(info.brands)
    rate = "no rate limit" if not info.rate_limit else f"{info.rate_limit} requests/minute"
    return f"{info.name} ({info.id}) for {brands}; scopes {', '.join(info.scopes)}; {rate}"


def _show_secret(secret: str, quiet: bool) -> None:
    if quiet:
        click.echo(secret)
        return
    click.echo("The key, shown this once (ctxapi keeps only its hash):\n")
    click.echo("  " + secret + "\n")
    click.echo("Send it as: Authorization: Bearer <key>")


@click.group()
def keys() -> None:
    """API keys: create, list, revoke, rotate (README, "Access control")."""


@keys.command("create")
@click.option("--name", required=True, help="A unique name: who or what uses the key.")
@click.option("--brand", "brands", multiple=True, help="A brand id the key sees (repeatable).")
@click.option("--all-brands", is_flag=True, help="See every brand (internal tools only).")
@click.option(
    "--scopes",
    default="context:read",
    show_default=True,
    help="Comma-separated scopes, or all:\n\n" + _SCOPES.replace("\n", "\n\n"),
)
@click.option(
    "--rate-limit",
    type=click.IntRange(min=0),
    default=DEFAULT_RATE_LIMIT,
    show_default=True,
    help="Requests per minute for each API instance; 0: unlimited.",
)
@click.option("--quiet", is_flag=True, help="Print only the key (for scripts).")
def keys_create(
    name: str, brands: tuple[str, ...], all_brands: bool, scopes: str, rate_limit: int, quiet: bool
) -> None:
    """Create a key and print it once.

    Example: ctxapi keys create --name zendesk-app --brand northwind --scopes context:read
    """
    if all_brands == bool(brands):
        raise click.UsageError("give --brand (one or more) or --all-brands, not both")
    chosen = _scopes(scopes)
    with _store() as (store, audit):
        secret, info = store.create(name, chosen, None if all_brands else list(brands), rate_limit)
        if not quiet:
            click.echo("Created " + _describe(info) + ".")
        _show_secret(secret, quiet)  # first: the key exists whatever the audit log says
        _noted(audit, "key.create", info)


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key.")
def keys_list(as_json: bool) -> None:
    """The keys, active and revoked (never their secrets)."""
    with _store() as (store, _audit):
        found = store.list()
    if as_json:
        for info in found:
            click.echo(orjson.dumps(_as_dict(info)).decode())
        return
    if not found:
        click.echo("No keys yet: ctxapi keys create --name NAME --brand BRAND")
        return
    for info in found:
        state = "revoked " + info.revoked_at.isoformat() if info.revoked_at else "active"
        click.echo(f"{info.hint}…  {_describe(info)}  [{state}]")


@keys.command("revoke")
@click.argument("name")
def keys_revoke(name: str) -> None:
    """Revoke the key NAME (a name or a key id): refused everywhere within the key cache
    time (CTXAPI_KEY_CACHE_SECONDS, 10 s by default)."""
    with _store() as (store, audit):
        info = store.revoke(name)
        _noted(audit, "key.revoke", info)
    click.echo(f"Revoked {info.name} ({info.id}).")


@keys.command("rotate")
@click.argument("name")
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seconds the old key keeps working, for a deployment to switch over.",
)
@click.option("--quiet", is_flag=True, help="Print only the new key (for scripts).")
def keys_rotate(name: str, grace: int, quiet: bool) -> None:
    """Give the key NAME a new secret; the old one stops working (after --grace seconds)."""
    with _store() as (store, audit):
        secret, info = store.rotate(name, grace)
        if not quiet:
            click.echo(f"Rotated {info.name} ({info.id}).")
        _show_secret(secret, quiet)  # first: the old key is gone whatever the audit log says
        _noted(audit, "key.rotate", info)


@click.group()
def audit() -> None:
    """The audit log (CTXAPI_AUDIT_LOG, .ctxapi/audit.jsonl by default)."""


@audit.command("tail")
@click.option("-n", "--lines", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--follow", "-f", "follows", is_flag=True, help="Keep printing new records.")
@click.option("--customer", default=None, help="Only records naming this customer id.")
@click.option("--key", default=None, help="Only records of this key name.")
def audit_tail(lines: int, follows: bool, customer: str | None, key: str | None) -> None:
    """Print the latest audit records, one JSON object per line."""
    path = _settings().audit_path()

    def wanted(record: dict[str, Any]) -> bool:
        if customer is not None and customer not in (record.get("customers") or []):
            return False
        return key is None or record.get("key") == key

    for record in tail(path, lines if customer is None and key is None else 100_000):
        if wanted(record):
            click.echo(orjson.dumps(record).decode())
    if follows:
        for record in follow(path):
            if wanted(record):
                click.echo(orjson.dumps(record).decode())


def with_development_key(settings: configuration.Settings, brand: str) -> configuration.Settings:
    """``ctxapi run``: its development key made (once) and printed, GraphiQL given it, the
    audit log echoed; without the demo brand in the graph, no key and a hint."""
    from ctxapi.db import Database

    if not settings.uses_local_neo4j:
        click.echo("No development key against NEO4J_URI: create one with `ctxapi keys create`.")
        return replace(settings, audit_stdout=True)
    try:
        with closing(Database(settings)) as db:
            key = development_key(db, settings.home, brand)
    except KeyStoreError as error:
        click.echo(f"No development key ({error}): create one with `ctxapi keys create`.")
    else:
        click.echo(f"Development key (every scope, brand {brand}): {key}")
        click.echo("GraphiQL sends it for you; curl needs -H 'Authorization: Bearer <key>'.")
        settings = replace(settings, graphiql_key=key)
    return replace(settings, audit_stdout=True)


def _scopes(text: str) -> list[Scope]:
    known = {scope.value: scope for scope in Scope}
    if text.strip() == "all":
        return list(Scope)
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in known]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown scope {', '.join(unknown) or '(none)'}; the scopes are:\n{_SCOPES}",
            param_hint="--scopes",
        )
    if Scope.PII_READ.value in chosen and Scope.CONTEXT_READ.value not in chosen:
        chosen.append(Scope.CONTEXT_READ.value)
    return [known[part] for part in chosen]


def _as_dict(info: KeyInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "hint": info.hint,
        "scopes": list(info.scopes),
        "brands": None if info.brands is None else list(info.brands),
        "rateLimit": info.rate_limit,
        "createdAt": info.created_at.isoformat(),
        "revokedAt": info.revoked_at.isoformat() if info.revoked_at else None,
        "rotatedAt": info.rotated_at.isoformat() if info.rotated_at else None,
    }
