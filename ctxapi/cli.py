"""The ``ctxapi`` command: run the local Neo4j, apply the graph schema, serve the API."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING, Any

import click
import orjson

from ctxapi import config as configuration
from ctxapi.access.commands import audit, keys
from ctxapi.commandline import settings as _settings
from ctxapi.erasure_command import erase
from ctxapi.gladly.commands import gladly
from ctxapi.seeding.commands import run_load, seed
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
            run_load(
                settings, [DEMO_DIR], rejects=settings.home / "demo-rejects.jsonl", shift=shift
            )
        with _clear_errors():
            settings = with_development_key(settings, DEMO_BRAND)
        with dispatching():
            _serve(
                settings, settings.host, port or settings.port, settings.workers, settings.threads
            )
    finally:
        if started and local is not None:
            local.stop()


cli.add_command(seed)
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
