"""The ``ctxapi`` command: run the local Neo4j, apply the graph schema, serve the API."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from ctxapi import config as configuration
from ctxapi.access.commands import audit, keys
from ctxapi.commandline import settings as _settings
from ctxapi.erasure_command import erase
from ctxapi.gladly.commands import gladly
from ctxapi.seeding.load import DEFAULT_BATCH_SIZE
from ctxapi.seeding.shift import demo_distance
from ctxapi.webhooks.commands import dispatching, webhooks

if TYPE_CHECKING:
    from flask import Flask


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Show ctxapi's own failures as one clear message instead of a traceback."""
    from ctxapi.db import DatabaseUnavailable
    from ctxapi.migrations import MigrationError
    from ctxapi.neo4j_local import Neo4jLocalError

    try:
        yield
    except (Neo4jLocalError, MigrationError, DatabaseUnavailable) as error:
        raise click.ClickException(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ctxapi")
def cli() -> None:
    """ctxapi: one GraphQL endpoint for the whole customer context, over Neo4j.

    Settings come from environment variables (README, "Configuration"). With NEO4J_URI unset,
    ctxapi manages a local Neo4j under .ctxapi/ that `ctxapi neo4j start` runs.
    """


@cli.command("explain")
@click.argument("document", type=click.File())
@click.option(
    "--variables", default="{}", help='Variables as a JSON object, e.g. \'{"id": "C-1"}\'.'
)
@click.option("--operation", default=None, help="The operation to explain, when there are several.")
@click.option("--profile", is_flag=True, help="Run each query once with PROFILE (needs Neo4j).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds a PROFILE run may take (a cold plan of the insights query is slow to make).",
)
def explain(
    document: Any, variables: str, operation: str | None, profile: bool, timeout: float
) -> None:
    """Print the Cypher a GraphQL DOCUMENT (a file, or - for stdin) compiles to.

    One query per root field, with its parameters; --profile adds Neo4j's plan with the rows
    and db hits of every operator. Example: ctxapi explain schema/queries/proactive_queue.graphql
    """
    from ctxapi.explain import report
    from ctxapi.graphql.errors import ClientError

    try:
        given = orjson.loads(variables)
    except orjson.JSONDecodeError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--variables") from None
    if not isinstance(given, dict):
        raise click.BadParameter("give a JSON object", param_hint="--variables")
    with _clear_errors():
        try:
            for line in report(
                document.read(), given, operation, _settings(), with_profile=profile
            ):
                click.echo(line)
        except ClientError as error:
            raise click.ClickException(str(error)) from None


# -- neo4j -----------------------------------------------------------------------------------
@cli.group()
def neo4j() -> None:
    """Fetch, start, stop and inspect the local Neo4j (used when NEO4J_URI is unset)."""


@neo4j.command("fetch")
def neo4j_fetch() -> None:
    """Download the pinned Neo4j Community jars with Maven (start does this when needed)."""
    from ctxapi.neo4j_local import NEO4J_VERSION, fetch

    with _clear_errors():
        lib = fetch(_settings().home)
    click.echo(f"Neo4j {NEO4J_VERSION} is in {lib}")


@neo4j.command("start")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for Bolt.")
def neo4j_start(timeout: float) -> None:
    """Start the local Neo4j in the background and wait until it answers (no-op if running)."""
    local = _settings().local_neo4j()
    with _clear_errors():
        started = local.start(timeout=timeout)
    if not started:
        click.echo(f"Neo4j is already running on {local.uri} (pid {local.pid()}).")


@neo4j.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j (waits for a clean shutdown)."""
    local = _settings().local_neo4j()
    if not local.stop():
        click.echo("Neo4j is not running.")
    else:
        click.echo("Neo4j stopped.")


@neo4j.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs; exit status 0 when it does, 3 when it does not."""
    status = _settings().local_neo4j().status()
    if status.running:
        click.echo(f"running  pid {status.pid}  {status.uri}  data in {status.home}")
    else:
        click.echo(f"stopped  (would listen on {status.uri}, data in {status.home})")
        sys.exit(3)


# -- schema ----------------------------------------------------------------------------------
@cli.group()
def schema() -> None:
    """The graph schema: constraints and indexes, as migrations in schema/migrations/."""


@schema.command("apply")
def schema_apply() -> None:
    """Apply the migrations that have not run yet (idempotent; records what ran in the graph)."""
    from ctxapi.db import Database
    from ctxapi.migrations import apply

    with closing(Database(_settings())) as db, _clear_errors():
        ran = apply(db)
    click.echo(f"Applied {', '.join(ran)}." if ran else "The graph schema is up to date.")


SDL_FILE = configuration.PROJECT_ROOT / "schema" / "ctxapi.graphql"


@schema.command("graphql")
@click.option("--write", is_flag=True, help=f"Write it to {SDL_FILE.name} instead of printing.")
def schema_graphql(write: bool) -> None:
    """Print the GraphQL schema (SDL) the code defines; tests keep schema/ctxapi.graphql equal."""
    from ctxapi.graphql.schema import sdl

    if write:
        SDL_FILE.write_text(sdl())
        click.echo(f"Wrote {SDL_FILE}")
    else:
        click.echo(sdl(), nl=False)


# -- seed ------------------------------------------------------------------------------------
def _console() -> Any:
    """Rich output; when piped or logged, wide enough that tables are not cut."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


@cli.group()
def seed() -> None:
    """Fill and refresh the graph from exports (format: seed/README.md)."""


@seed.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate every record; write nothing.")
@click.option(
    "--rejects",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("rejects.jsonl"),
    show_default=True,
    help="Where rejected records go, one JSON object per line (file, line, raw, errors).",
)
@click.option(
    "--max-rejects",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Exit 0 as long as at most this many records were rejected.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1, max=100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Records per write transaction.",
)
@click.option(
    "--summary-json",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the summary as JSON (per type: read, created, …, seconds).",
)
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Keep the counts per type in this Prometheus textfile (*.prom), every few seconds.",
)
@click.option(
    "--phone-region",
    default=None,
    help="Region for phone numbers without a country code [CTXAPI_PHONE_REGION, default US].",
)
@click.option(
    "--max-record-bytes",
    type=click.IntRange(min=1),
    default=None,
    help="A longer line is a reject [CTXAPI_MAX_RECORD_BYTES, default 1000000].",
)
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
    summary = _load(
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


def _load(settings: configuration.Settings, paths: list[Path], **options: Any) -> Any:
    """Run a load (options: ``seeding.report.load_files``); its summary is printed either way."""
    from ctxapi.seeding.load import LoadError
    from ctxapi.seeding.report import load_files

    try:
        return load_files(_console(), settings, paths, **options)
    except LoadError as error:
        raise click.ClickException(str(error)) from None


# -- serving ---------------------------------------------------------------------------------
def _wait_for_database(settings: configuration.Settings, timeout: float) -> None:
    from ctxapi.db import Database, DatabaseUnavailable

    db = Database(settings)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                db.ping()
                return
            except DatabaseUnavailable as error:
                if time.monotonic() > deadline:
                    raise click.ClickException(
                        f"{error} at {settings.resolved().neo4j_uri} after {timeout:.0f}s"
                    ) from None
                time.sleep(0.5)
    finally:
        db.close()


@cli.command("wait")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait.")
def wait(timeout: float) -> None:
    """Wait until Neo4j answers (for start-up scripts)."""
    _wait_for_database(_settings(), timeout)
    click.echo("Neo4j answers.")


def _serve(
    settings: configuration.Settings, host: str, port: int, workers: int, threads: int
) -> None:
    from ctxapi.serving import Server, multiprocess_metrics, options

    gunicorn = options(
        settings,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        worker_exit=_close_worker_driver,
    )
    click.echo(f"Serving ctxapi on http://{host}:{port}/graphql  (Ctrl-C stops)")
    with multiprocess_metrics():
        Server(settings, gunicorn).run()


def _close_worker_driver(_server: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook: the worker closes the driver of its app before it ends."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        app.extensions["ctxapi"].db.close()


@cli.command("serve")
@click.option("--host", default=None, help="Address to bind [HOST, default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [PORT, default 8000].")
@click.option("--workers", type=int, default=None, help="gunicorn workers [CTXAPI_WORKERS].")
@click.option("--threads", type=int, default=None, help="Threads per worker [CTXAPI_THREADS].")
def serve(host: str | None, port: int | None, workers: int | None, threads: int | None) -> None:
    """Serve the API with gunicorn in the foreground (Neo4j must be running)."""
    settings = _settings()
    _serve(
        settings,
        host or settings.host,
        port or settings.port,
        workers or settings.workers,
        threads or settings.threads,
    )


DEMO_DIR = configuration.PROJECT_ROOT / "seed" / "demo"
DEMO_BRAND = "northwind"
_ANY_CUSTOMER = "MATCH (c:Customer) RETURN c.id LIMIT 1"


@cli.command("run")
@click.option("--port", type=int, default=None, help="Port [PORT, default 8000].")
def run(port: int | None) -> None:
    """Everything `make run` does: start Neo4j, apply the schema, load the demo data into an
    empty graph, serve, with a webhook dispatcher (`ctxapi webhooks deliver`) beside the
    server; Ctrl-C stops it all."""
    from ctxapi.access.commands import with_development_key
    from ctxapi.db import Database
    from ctxapi.migrations import apply

    settings = _settings()
    local = settings.local_neo4j() if settings.uses_local_neo4j else None
    started = False
    try:
        with _clear_errors():
            if local is not None:
                started = local.start()
            else:
                _wait_for_database(settings, 30)
            with closing(Database(settings)) as db:
                ran = apply(db)
                empty = not db.read(_ANY_CUSTOMER)
        if ran:
            click.echo(f"Graph schema: applied {', '.join(ran)}.")
        if empty:
            shift = demo_distance(settings.now())  # the stories made current
            click.echo(f"The graph is empty: loading the demo data from {DEMO_DIR} ...")
            _load(settings, [DEMO_DIR], rejects=settings.home / "demo-rejects.jsonl", shift=shift)
        with _clear_errors():
            settings = with_development_key(settings, DEMO_BRAND)
        with dispatching():
            _serve(
                settings, settings.host, port or settings.port, settings.workers, settings.threads
            )
    finally:
        if started and local is not None:
            local.stop()


cli.add_command(keys)
cli.add_command(audit)
cli.add_command(erase)
cli.add_command(webhooks)
cli.add_command(gladly)


def register(app: Flask) -> None:
    """Make the same commands available as ``flask --app ctxapi ctxapi …``."""
    app.cli.add_command(cli, "ctxapi")


def main() -> None:
    cli(prog_name="ctxapi")


if __name__ == "__main__":
    main()
