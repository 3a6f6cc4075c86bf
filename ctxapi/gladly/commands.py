"""``ctxapi gladly …``: the Gladly adapters of the brands, from the shell (docs/gladly.md).

Like ``ctxapi keys``, these talk to Neo4j with the operator's database credentials (NEO4J_*),
which is what entitles them; each change is written to the audit log.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import closing, contextmanager

import click
import orjson

from ctxapi.access.audit import AuditLog, AuditUnavailable
from ctxapi.commandline import settings as _settings
from ctxapi.gladly.adapters import Adapter, AdapterError, AdapterStore
from ctxapi.gladly.views import PATH


@contextmanager
def _store() -> Iterator[tuple[AdapterStore, AuditLog]]:
    from ctxapi.db import Database, DatabaseUnavailable

    settings = _settings().resolved()
    audit = AuditLog(settings.audit_path())
    try:
        with closing(Database(settings)) as db:
            yield AdapterStore(db), audit
    except (AdapterError, DatabaseUnavailable, AuditUnavailable) as error:
        raise click.ClickException(str(error)) from None
    finally:
        audit.close()


def _noted(audit: AuditLog, event: str, adapter: Adapter) -> None:
    audit.record(
        event, adapter=adapter.id, key=adapter.name, brands=[adapter.brand], by=getpass.getuser()
    )


@click.group()
def gladly() -> None:
    """Gladly Lookup Adapters: add, list, remove (docs/gladly.md)."""


@gladly.command("add")
@click.option("--brand", required=True, help="The brand whose customers the adapter answers.")
@click.option("--name", default="", help="A label for the adapter [default: gladly-BRAND].")
@click.option(
    "--base-url",
    default="https://<where Gladly reaches ctxapi>",
    help="Where Gladly reaches this API (your proxy's public URL), to print the lookup URL.",
)
def gladly_add(brand: str, name: str, base_url: str) -> None:
    """Add an adapter for BRAND and print its credentials once: the URL, the Basic-auth user
    name and password, and the signing key, to enter in Gladly's Lookup Adapter app.

    Example: ctxapi gladly add --brand northwind --base-url https://ctx.northwind.example
    """
    with _store() as (store, audit):
        credentials, adapter = store.add(brand, name)
        click.echo(f"Added {adapter.name} ({adapter.id}) for brand {adapter.brand}.")
        click.echo("Enter these in Gladly's Lookup Adapter app; ctxapi shows the password")
        click.echo("and the signing key this once (it keeps only the password's hash):\n")
        click.echo(f"  Lookup URL   {base_url.rstrip('/')}{PATH}")
        click.echo(f"  User name    {credentials.username}")
        click.echo(f"  Password     {credentials.password}")
        click.echo(f"  Signing key  {credentials.signing_secret}\n")
        click.echo(f"To replace them: ctxapi gladly add --brand {brand}, then remove {adapter.id}.")
        _noted(audit, "gladly.add", adapter)


@gladly.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per adapter.")
def gladly_list(as_json: bool) -> None:
    """The adapters (never their secrets)."""
    with _store() as (store, _audit):
        found = store.list()
    for adapter in found:
        if as_json:
            shown = {
                "id": adapter.id,
                "name": adapter.name,
                "brand": adapter.brand,
                "createdAt": adapter.created_at.isoformat(),
                "signed": adapter.signing_secret is not None,
            }
            click.echo(orjson.dumps(shown).decode())
        else:
            click.echo(
                f"{adapter.id}  {adapter.name}  brand {adapter.brand}"
                f"  added {adapter.created_at:%Y-%m-%d %H:%M}"
            )
    if not found and not as_json:
        click.echo("No Gladly adapters yet: ctxapi gladly add --brand BRAND")


@gladly.command("remove")
@click.argument("adapter_id", metavar="ID")
def gladly_remove(adapter_id: str) -> None:
    """Remove the adapter ID (gla_…): its credentials stop working at once."""
    with _store() as (store, audit):
        adapter = store.remove(adapter_id)
        _noted(audit, "gladly.remove", adapter)
    click.echo(f"Removed {adapter.name} ({adapter.id}) of brand {adapter.brand}.")
