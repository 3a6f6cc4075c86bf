"""What a load shows a person: a progress bar per file on a terminal, always a summary table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ctxapi.config import Settings
from ctxapi.db import Database
from ctxapi.seeding.load import (
    DEFAULT_BATCH_SIZE,
    OUTCOMES,
    Loader,
    LoadError,
    Rejects,
    Summary,
    discover,
)
from ctxapi.seeding.load import Progress as Tick
from ctxapi.seeding.reading import DEFAULT_MAX_RECORD_BYTES


def load_files(
    console: Console,
    settings: Settings,
    paths: list[Path],
    *,
    dry_run: bool = False,
    rejects: Path = Path("rejects.jsonl"),
    batch_size: int = DEFAULT_BATCH_SIZE,
    phone_region: str = "US",
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    summary_json: Path | None = None,
    metrics_file: Path | None = None,
    shift: timedelta | None = None,
) -> Summary:
    """Load with progress bars; show the summary (also of a load that stopped, then re-raised).

    ``metrics_file``: keep the counts there as a Prometheus textfile (``seeding.textfile``);
    ``shift``: move every time by it (``seeding.shift``: the demo, made current)."""
    if max_record_bytes < 1:
        raise LoadError(
            "the record size limit (--max-record-bytes, CTXAPI_MAX_RECORD_BYTES) is "
            f"{max_record_bytes}: give at least 1 (byte)"
        )
    db = None if dry_run else Database(settings)
    try:
        files = discover(paths)
        if not files:
            raise LoadError(f"no record files in {', '.join(map(str, paths))}")
        with progress_bars(console) as bars:
            loader = Loader(
                db,
                rejects=Rejects(rejects),
                batch_size=batch_size,
                phone_region=phone_region,
                max_record_bytes=max_record_bytes,
                progress=bars,
                pepper=settings.pepper(),
                shift=shift,
            )
            with _metrics_file(metrics_file, loader.summary):
                summary = loader.load(files)
    except LoadError as error:
        if error.summary is not None:
            show(console, error.summary, summary_json)
        raise
    finally:
        if db is not None:
            db.close()
    show(console, summary, summary_json)
    return summary


def _metrics_file(path: Path | None, summary: Summary) -> AbstractContextManager[object]:
    if path is None:
        return nullcontext()
    # Imported when asked for: `ctxapi run` loads, then serves, and prometheus_client chooses
    # its (multiprocess) mode when it is first imported.
    from ctxapi.seeding.textfile import MetricsFile

    return MetricsFile(path, summary)


def show(console: Console, summary: Summary, summary_json: Path | None = None) -> None:
    """The summary table, where the rejects are, and the summary as JSON when asked for."""
    console.print(summary_table(summary))
    rejected = summary.total.rejected
    if rejected:
        console.print(
            f"{rejected:,} rejected records are in {summary.rejects_path} (file, line, raw, "
            "errors).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    suppressed = summary.total.suppressed
    if suppressed:
        console.print(
            f"{suppressed:,} records of erased customers were suppressed: neither written nor"
            " rejected (--summary-json lists their files and lines).",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if summary_json is not None:
        summary_json.write_bytes(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2))


@contextmanager
def progress_bars(console: Console) -> Iterator[Callable[[Path, int], Tick]]:
    """A factory of per-file progress callbacks; draws nothing when not on a terminal."""
    bars = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[records]:>10,} records  {task.fields[rate]:>8,.0f}/s"),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    tasks: dict[Path, TaskID] = {}

    def for_file(path: Path, size: int) -> Tick:
        tasks[path] = bars.add_task(path.name, total=size or 1, records=0, rate=0.0)

        def tick(_path: Path, records: int, position: int) -> None:
            task = bars.tasks[tasks[path]]
            elapsed = task.elapsed or 0.0
            rate = records / elapsed if elapsed > 0 else 0.0
            bars.update(tasks[path], completed=position, records=records, rate=rate)

        return tick

    with bars:
        yield for_file


def summary_table(summary: Summary) -> Table:
    """Per type: read, each outcome (created … deleted), (suppressed,) rejected; a total row;
    the wall time. The suppressed column shows when a load suppressed something."""
    dry = summary.dry_run
    erased = ("suppressed",) if summary.total.suppressed and not dry else ()
    title = "Validation (dry run: nothing written)" if dry else "Load summary"
    table = Table(title=title, title_justify="left")
    table.add_column("type")
    counted = ("read", "created", "rejected") if dry else ("read", *OUTCOMES, *erased, "rejected")
    headers = ("read", "valid", "rejected") if dry else counted
    for column in (*headers, "records/s"):
        table.add_column(column, justify="right")
    rows = [*summary.stats.items(), ("total", summary.total)]
    for name, stats in rows:
        values = [getattr(stats, column) for column in counted]
        style = "bold" if name == "total" else None
        seconds = summary.seconds if name == "total" else stats.seconds
        rate = stats.read / seconds if seconds else 0.0
        cells = [f"{value:,}" for value in values] + [f"{rate:,.0f}"]
        table.add_row(name, *cells, style=style)
    rate = summary.total.read / summary.seconds if summary.seconds else 0.0
    table.caption = f"{summary.seconds:.1f} s wall time, {rate:,.0f} records/s"
    table.caption_justify = "left"
    return table
