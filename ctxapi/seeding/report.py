"""What a load shows a person: a progress bar per file on a terminal, always a summary table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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

from ctxapi.seeding.load import Progress as Tick
from ctxapi.seeding.load import Summary


@contextmanager
def progress_bars(console: Console) -> Iterator[object]:
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
    """Per type: read, created, updated, unchanged, rejected; a total row; the wall time."""
    dry = summary.dry_run
    title = "Validation (dry run: nothing written)" if dry else "Load summary"
    table = Table(title=title, title_justify="left")
    table.add_column("type")
    columns = ("read", "valid", "rejected", "records/s") if dry else (
        "read", "created", "updated", "unchanged", "rejected", "records/s"
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    rows = [*summary.stats.items(), ("total", summary.total)]
    for name, stats in rows:
        values = (
            (stats.read, stats.created, stats.rejected)
            if dry
            else (stats.read, stats.created, stats.updated, stats.unchanged, stats.rejected)
        )
        style = "bold" if name == "total" else None
        seconds = summary.seconds if name == "total" else stats.seconds
        rate = stats.read / seconds if seconds else 0.0
        cells = [f"{value:,}" for value in values] + [f"{rate:,.0f}"]
        table.add_row(name, *cells, style=style)
    rate = summary.total.read / summary.seconds if summary.seconds else 0.0
    table.caption = f"{summary.seconds:.1f} s wall time, {rate:,.0f} records/s"
    table.caption_justify = "left"
    return table
