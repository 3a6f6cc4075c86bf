"""``ctxapi seed``: load, import and generate record files (format: seed/README.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ctxapi import config as configuration
from ctxapi.commandline import settings as _settings
from ctxapi.seeding.load import DEFAULT_BATCH_SIZE


def _console() -> Any:
    """Rich output; when piped or logged, wide enough that tables are not cut."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


#: The options `seed load` and `seed import` share.
def _rejects(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The ``--rejects`` option, with its command's help."""
    return click.option(
        "--rejects",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("rejects.jsonl"),
        show_default=True,
        help=help,
    )


_max_rejects = click.option(
    "--max-rejects",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Exit 0 as long as at most this many records were rejected.",
)
_summary_json = click.option(
    "--summary-json",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the summary as JSON (per type: read, created, …, seconds).",
)
_phone_region = click.option(
    "--phone-region",
    default=None,
    help="Region for phone numbers without a country code [CTXAPI_PHONE_REGION, default US].",
)
_max_record_bytes = click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="A longer line is a reject [CTXAPI_MAX_RECORD_BYTES, default 1000000].",
)


@click.group()
def seed() -> None:
    """Fill and refresh the graph from exports (format: seed/README.md)."""


@seed.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate every record; write nothing.")
@_rejects("Where rejected records go, one JSON object per line (file, line, raw, errors).")
@_max_rejects
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records per write transaction.",
)
@_summary_json
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Keep the counts per type in this Prometheus textfile (*.prom), every few seconds.",
)
@_phone_region
@_max_record_bytes
def seed_load(
    paths: tuple[Path, ...],
    dry_run: bool,
    rejects: Path,
    max_rejects: int,
    batch_size: int,
    summary_json: Path | None,
    metrics_file: Path | None,
    phone_region: str | None,
    max_record_bytes: int | None,
) -> None:
    """Load record files (or folders of them) into the graph, in dependency order.

    Files are named <type>.jsonl (or .csv for flat types, .gz allowed), e.g. customers.jsonl,
    orders-2024.jsonl. Loading the same files again changes nothing; a changed record updates
    its node; a record with "op": "patch" or "delete" changes only what it gives, or deletes
    (seed/README.md, "Delta records"). Exit status 1 when more than --max-rejects records
    were rejected, or when the load cannot go on (a broken .gz file: what was read before the
    break stays loaded).
    """
    settings = _settings()
    summary = run_load(
        settings,
        list(paths),
        dry_run=dry_run,
        rejects=rejects,
        batch_size=batch_size,
        phone_region=phone_region or settings.phone_region,
        max_record_bytes=max_record_bytes or settings.max_record_bytes,
        summary_json=summary_json,
        metrics_file=metrics_file,
    )
    if summary.total.rejected > max_rejects:
        sys.exit(1)


@seed.command("generate")
@click.option("--customers", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option(
    "--seed", "seed_", type=int, default=1, show_default=True, help="Same seed, same files."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for the twelve .jsonl files (created; existing files are replaced).",
)
def seed_generate(customers: int, seed_: int, out: Path) -> None:
    """Write synthetic data in the seed format (about 15 records per customer).

    Deterministic for a seed; streamed, so millions of customers need no more memory than ten.
    """
    from rich.progress import Progress

    from ctxapi.seeding.generate import Generator

    console = _console()
    started = time.perf_counter()
    with Progress(console=console, disable=not console.is_terminal) as bars:
        task = bars.add_task("customers", total=customers)
        counts = Generator(customers, seed_).run(
            out, progress=lambda done: bars.update(task, completed=done)
        )
    seconds = time.perf_counter() - started
    total = sum(counts.values())
    click.echo(
        f"Wrote {total:,} records for {customers:,} customers to {out} in {seconds:.1f} s: "
        + ", ".join(f"{name} {count:,}" for name, count in counts.items())
    )


def run_load(settings: configuration.Settings, paths: list[Path], **options: Any) -> Any:
    """Run a load (options: ``seeding.report.load_files``); its summary is printed either way."""
    from ctxapi.seeding.load import LoadError
    from ctxapi.seeding.report import load_files

    try:
        return load_files(_console(), settings, paths, **options)
    except LoadError as error:
        raise click.ClickException(str(error)) from None


@seed.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that holds data (all of it: keys, webhooks, ledger …; the "
    "tombstones of erased customers are kept).",
)
@_rejects("Where rejected records go: the same file `seed load` writes for the same input.")
@_max_rejects
@click.option(
    "--jobs",
    type=click.IntRange(min=1, max=64),
    default=2,
    show_default=True,
    help="Processes that validate records (1: validate in this process).",
)
@_summary_json
@_phone_region
@_max_record_bytes
def seed_import(
    paths: tuple[Path, ...],
    force: bool,
    rejects: Path,
    max_rejects: int,
    jobs: int,
    summary_json: Path | None,
    phone_region: str | None,
    max_record_bytes: int | None,
) -> None:
    """Build a NEW graph from record files with neo4j-admin: a first load, many times faster.

    Reads and checks the same files as `seed load` (same rejects file, same graph), then stops
    the local Neo4j, imports with `neo4j-admin database import full`, starts it, applies the
    graph schema, and leaves it running or stopped as it was. A database that holds data is
    replaced only with --force. Full exports only: a record with "op": "patch" or "delete"
    stops the import before anything changes (apply deltas with `seed load` afterwards).
    Only for the local Neo4j ctxapi manages (NEO4J_URI unset); see docs/seed-import.md.
    """
    from ctxapi.neo4j_local import Neo4jLocalError
    from ctxapi.seeding.bulk import ImportRefused
    from ctxapi.seeding.graphcsv import UnknownField
    from ctxapi.seeding.importing import import_files
    from ctxapi.seeding.load import LoadError

    settings = _settings()
    if not settings.uses_local_neo4j:
        raise click.ClickException(
            "NEO4J_URI is set: `seed import` builds the database of the local Neo4j ctxapi "
            "manages, offline. Load into that server with `ctxapi seed load`."
        )
    console = _console()
    try:
        done = import_files(
            console,
            settings,
            list(paths),
            local=settings.local_neo4j(),
            force=force,
            rejects=rejects,
            jobs=jobs,
            phone_region=phone_region or settings.phone_region,
            max_record_bytes=max_record_bytes or settings.max_record_bytes,
            summary_json=summary_json,
        )
    except (ImportRefused, LoadError, UnknownField, Neo4jLocalError) as error:
        raise click.ClickException(str(error)) from None
    rate = done.summary.total.read / done.summary.seconds if done.summary.seconds else 0.0
    click.echo(
        f"Imported in {done.summary.seconds:.1f} s ({rate:,.0f} records/s): checked and written "
        f"as CSV in {done.check_seconds:.1f} s, neo4j-admin {done.import_seconds:.1f} s, "
        f"start and schema {done.schema_seconds:.1f} s."
    )
    if done.summary.total.rejected > max_rejects:
        sys.exit(1)
