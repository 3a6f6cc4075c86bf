"""``ctxapi webhooks …``: subscribe integrations to events, watch and run their delivery.

The commands use the operator's Neo4j credentials (``NEO4J_*``), which is what entitles them;
adding, removing and retrying are written to the audit log (ids and hosts, never a secret).
"""

from __future__ import annotations

import getpass
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

import click
import orjson

from ctxapi.commandline import settings as _settings
from ctxapi.store.events import Event, parse_events

_EVENTS = "\n\n".join(f"{event.value}: {event.meaning}" for event in Event)


@contextmanager
def _registry() -> Iterator[Any]:
    from ctxapi.access.audit import AuditUnavailable
    from ctxapi.db import Database, DatabaseUnavailable
    from ctxapi.webhooks.registry import Registry, WebhookError

    settings = _settings().resolved()
    try:
        with closing(Database(settings)) as db:
            yield Registry(db)
    except (WebhookError, DatabaseUnavailable, AuditUnavailable) as error:
        raise click.ClickException(str(error)) from None


def _audit(event: str, **fields: Any) -> None:
    from ctxapi.access.audit import AuditLog

    audit = AuditLog(_settings().audit_path())
    try:
        audit.record(event, by=getpass.getuser(), **fields)
    finally:
        audit.close()


@click.group()
def webhooks() -> None:
    """Webhooks: POST signed events to integrations (docs/webhooks.md).

    Events are recorded with the writes that cause them and delivered at least once by
    `ctxapi webhooks deliver` (which `ctxapi run` starts): deduplicate by Ctxapi-Event-Id.
    """


@webhooks.command("add")
@click.argument("url")
@click.option("--brand", required=True, help="The brand whose customers' events it receives.")
@click.option(
    "--events",
    default=",".join(event.value for event in Event),
    show_default="every event",
    help="Comma-separated events:\n\n" + _EVENTS,
)
@click.option("--quiet", is_flag=True, help="Print only the id and the secret (for scripts).")
def add(url: str, brand: str, events: str, quiet: bool) -> None:
    """Send the events of brand --brand to URL (http or https); prints its id and signing
    secret, once.

    Example: ctxapi webhooks add https://crm.example/hooks/ctxapi --brand northwind
    --events interaction.recorded,customer.merged,customer.erased,queue.item_due
    """
    try:
        chosen = parse_events(events)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--events") from None
    at = datetime.now(UTC).isoformat()
    with _registry() as registry:
        hook, secret = registry.add(url, chosen, brand, at)
    if quiet:
        click.echo(f"{hook.id} {secret}")
    else:
        click.echo(f"Added webhook {hook.id}: {', '.join(hook.events)} of brand {brand}")
        click.echo(f"to {hook.host}. Its signing secret, shown this once:\n\n  {secret}\n")
        click.echo("Verify Ctxapi-Signature with it (docs/webhooks.md, 'Verifying').")
    _audit("webhook.add", webhook=hook.id, host=hook.host, brand=brand, events=list(hook.events))


@webhooks.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per webhook.")
def list_(as_json: bool) -> None:
    """The webhooks: id, brand, events, URL (never their secrets)."""
    with _registry() as registry:
        found = registry.webhooks()
    for hook in found:
        if as_json:
            shown = {"id": hook.id, "url": hook.url, "brand": hook.brand}
            shown |= {"events": list(hook.events), "createdAt": hook.created_at}
            click.echo(orjson.dumps(shown).decode())
        else:
            click.echo(f"{hook.id}  brand {hook.brand}  {hook.url}\n    {', '.join(hook.events)}")
    if not found and not as_json:
        click.echo("No webhooks yet: ctxapi webhooks add URL --brand BRAND")


@webhooks.command("remove")
@click.argument("webhook_id")
def remove(webhook_id: str) -> None:
    """Remove the webhook WEBHOOK_ID, and drop the deliveries it is still owed."""
    with _registry() as registry:
        dropped = registry.remove(webhook_id)
    if dropped is None:
        raise click.ClickException(f"there is no webhook {webhook_id!r} (ctxapi webhooks list)")
    click.echo(f"Removed webhook {webhook_id}; {dropped:,} deliveries dropped.")
    _audit("webhook.remove", webhook=webhook_id, dropped=dropped)


@webhooks.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per webhook.")
def status(as_json: bool) -> None:
    """Per webhook: deliveries pending, delivered (kept 7 days) and dead, the last error,
    and the dead letters (event id, type, attempts, last error)."""
    with _registry() as registry:
        found = registry.status()
    for one in found:
        counts = {"pending": one.pending, "delivered": one.delivered, "dead": one.dead}
        if as_json:
            shown = {"id": one.webhook.id, "host": one.webhook.host, "brand": one.webhook.brand}
            shown |= counts | {"lastError": one.last_error, "deadLetters": one.dead_letters}
            click.echo(orjson.dumps(shown).decode())
            continue
        click.echo(f"{one.webhook.id}  {one.webhook.host}  brand {one.webhook.brand}")
        click.echo("    " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
        click.echo(f"    last error: {one.last_error or '-'}")
        if one.dead_letters:
            click.echo("    dead letters (ctxapi webhooks retry EVENT_ID, or --all):")
        for letter in one.dead_letters:
            click.echo(
                f"      {letter['id']}  {letter['type']}  {letter['attempts']} attempts"
                f"  {letter['lastError']}"
            )
    if not found and not as_json:
        click.echo("No webhooks yet: ctxapi webhooks add URL --brand BRAND")


@webhooks.command("retry")
@click.argument("event_id", required=False)
@click.option("--all", "all_", is_flag=True, help="Every dead letter.")
@click.option("--webhook", default=None, help="Only this webhook's dead letters.")
def retry(event_id: str | None, all_: bool, webhook: str | None) -> None:
    """Send dead letters again: the one of EVENT_ID, or --all; each gets a full schedule of
    attempts, starting at the next `deliver`."""
    if all_ == bool(event_id):
        raise click.UsageError("give an EVENT_ID or --all, not both")
    with _registry() as registry:
        n = registry.retry(event_id, webhook)
    if not n:
        raise click.ClickException("no dead letter matches (ctxapi webhooks status)")
    click.echo(f"{n:,} dead letter(s) pending again.")
    _audit("webhook.retry", eventId=event_id, webhook=webhook, retried=n)


@webhooks.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (scripts, tests).")
def deliver(once: bool) -> None:
    """Run the dispatcher: send due deliveries (every CTXAPI_WEBHOOK_POLL seconds) and
    announce queue items fallen due (every CTXAPI_WEBHOOK_DUE_SCAN seconds), until stopped
    (SIGTERM or Ctrl-C). Several at once are safe."""
    from ctxapi.db import Database, DatabaseUnavailable
    from ctxapi.webhooks.dispatcher import Dispatcher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = _settings().resolved()
    with closing(Database(settings)) as db:
        dispatcher = Dispatcher(db, settings)
        if once:
            try:
                outcomes = dispatcher.once()
            except DatabaseUnavailable as error:
                raise click.ClickException(str(error)) from None
            shown = ("announced", "delivered", "pending", "dead", "lost")
            click.echo(", ".join(f"{name} {outcomes[name]:,}" for name in shown))
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo("Delivering webhooks (Ctrl-C stops) ...")
        with suppress(KeyboardInterrupt):
            dispatcher.run(stop)


@contextmanager
def dispatching() -> Iterator[None]:
    """A dispatcher (``ctxapi webhooks deliver``) in a child process while the block runs."""
    command = [sys.executable, "-m", "ctxapi.cli", "webhooks", "deliver"]
    child = subprocess.Popen(command, env=os.environ.copy())
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
