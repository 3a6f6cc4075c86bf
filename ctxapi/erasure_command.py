"""``ctxapi erase``: erase a customer from the shell, with the operator's database credentials.

The same work as the ``eraseCustomer`` mutation (``ctxapi.store.erasure``), run through the
same ledger: its ``Write`` record in the graph names the operator (``--operator``, else
``internal``) under the internal key id ``-``, and the audit log gets its ``write`` line.
"""

from __future__ import annotations

import getpass
import sys
import uuid
from contextlib import closing
from datetime import datetime
from typing import Any

import click
import orjson
from neo4j import ManagedTransaction

from ctxapi.commandline import settings as _settings

#: Exit statuses, as --help tells them.
ERASED, NOT_ERASED, ALREADY_ERASED = 0, 1, 3


class _DryRun(Exception):
    """Raised to roll the dry run's transaction back, with what it would have done."""

    def __init__(self, receipt: dict[str, Any]) -> None:
        super().__init__("dry run")
        self.receipt = receipt


@click.command("erase")
@click.argument("customer_id")
@click.option("--reason", required=True, help="Why: a ticket or request reference (kept).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would go and stay; change nothing.")
@click.option(
    "--operator", default=None, help="Who erases, for the audit records [default: internal]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the receipt as one JSON object.")
def erase(
    customer_id: str, reason: str, yes: bool, dry_run: bool, operator: str | None, as_json: bool
) -> None:
    """Erase the customer CUSTOMER_ID (GDPR Art. 17; docs/write-back.md, "Erasure").

    Their name, identifiers, addresses and free text go; orders, contacts and feedback are
    kept de-identified for aggregates unless CTXAPI_ERASURE_KEEP_AGGREGATES=off, in which case
    they are deleted. Tombstones (keyed by CTXAPI_ERASURE_PEPPER, which must be set) keep a
    later `seed load` from bringing the customer back. Irreversible: asks first unless --yes.

    \b
    Exit status:
      0  erased (or, with --dry-run, shown)
      1  not erased: no such customer, not confirmed, or a problem (Neo4j, the pepper, ...)
      2  bad usage
      3  already erased (nothing to do)
    """
    from ctxapi.access.audit import AuditLog, AuditUnavailable
    from ctxapi.db import Database, DatabaseUnavailable
    from ctxapi.store.erasure import Erasure, checked_reason, zulu
    from ctxapi.store.erasure import erase as erasure_work
    from ctxapi.store.ledger import Request, perform
    from ctxapi.store.problems import Refused
    from ctxapi.store.tombstones import PepperError, Tombstones

    settings = _settings().resolved()
    try:
        text = checked_reason(reason, ("--reason",))
    except Refused as refused:
        raise click.BadParameter(refused.problems[0].message, param_hint="--reason") from None
    at = datetime.fromisoformat(settings.now())
    erasure = Erasure(customer_id, text, zulu(at), settings.erasure_keep_aggregates)
    tombstones = Tombstones(settings.pepper())
    work = erasure_work(erasure, None, tombstones, field="customerId")

    def rehearsal(tx: ManagedTransaction) -> None:
        raise _DryRun(work(tx).result["erasure"])

    principal = operator or "internal"
    with closing(Database(settings)) as db:
        try:
            try:
                db.write(rehearsal)
            except _DryRun as done:
                preview = done.receipt
            except Refused as refused:
                day = db.write(lambda tx: tombstones.erased_on(tx, "customer", customer_id))
                if day is not None:
                    click.echo(f"Customer {customer_id} was erased on {day}: nothing to do.")
                    sys.exit(ALREADY_ERASED)
                # not there, or merged into another customer (erase that one)
                click.echo(f"Error: {refused.problems[0].message}.", err=True)
                sys.exit(NOT_ERASED)
            if dry_run:
                _show(preview, as_json, dry_run=True)
                return
            if not yes:
                _show(preview, False, dry_run=True)
                if not click.confirm(f"Erase customer {customer_id}? This cannot be undone"):
                    click.echo("Nothing was erased.")
                    sys.exit(NOT_ERASED)
            request = Request(
                operation="eraseCustomer",
                idempotency_key=erasure.id,
                input={"customerId": customer_id, "reason": text},
                key_id="-",
                key_name=principal,
                request_id="cli-" + uuid.uuid4().hex,
                at=at,
            )
            outcome = perform(db, request, work)
        except (PepperError, DatabaseUnavailable) as error:
            raise click.ClickException(str(error)) from None
    audit = AuditLog(settings.audit_path())
    try:
        audit.record(
            "write",
            key=principal,
            keyId="-",
            requestId=request.request_id,
            operation="eraseCustomer",
            outcome="written" if outcome.result else "refused",
            customers=[customer_id],
            by=getpass.getuser(),
            **({} if outcome.result else {"codes": [p.code.value for p in outcome.problems]}),
        )
    except AuditUnavailable as error:
        click.echo(f"Error: {error} (the erasure's record is in the graph).", err=True)
    finally:
        audit.close()
    if outcome.result is None:  # erased by someone else since the preview
        click.echo(f"Error: {outcome.problems[0].message}.", err=True)
        sys.exit(NOT_ERASED)
    _show(outcome.result["erasure"], as_json, dry_run=False)


def _counts(counts: dict[str, int]) -> str:
    listed = [f"{name} {n:,}" for name, n in counts.items() if n]
    return ", ".join(listed) or "nothing"


def _show(receipt: dict[str, Any], as_json: bool, *, dry_run: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(receipt | {"dryRun": dry_run}).decode())
        return
    who = receipt["customerId"]
    if dry_run:
        click.echo(f"Erasing customer {who} would remove and keep (dry run, nothing changed):")
    else:
        click.echo(f"Erased customer {who} (erasure {receipt['id']}, {receipt['at']}).")
    click.echo(f"  removed: {_counts(receipt['removed'])}")
    kept = _counts(receipt["kept"])
    if not receipt["keptAggregates"]:
        kept += " (CTXAPI_ERASURE_KEEP_AGGREGATES is off: orders, contacts, feedback deleted)"
    click.echo(f"  kept de-identified or shared with others: {kept}")
    click.echo(
        f"  tombstones: {receipt['tombstones']:,}; earlier API writes scrubbed:"
        f" {receipt['writesScrubbed']:,}"
    )
    if receipt["mergedAway"] or receipt["merges"]:
        click.echo(
            f"  customers merged into them before, erased with them: {receipt['mergedAway']:,};"
            f" merge records removed: {receipt['merges']:,}"
        )
