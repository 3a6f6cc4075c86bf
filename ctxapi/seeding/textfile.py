"""A load's progress as a Prometheus textfile (``ctxapi seed load --metrics-file PATH``).

``seed load`` is a process of its own, not scraped: it writes its counts per record type to
PATH (name it ``*.prom`` in node-exporter's ``--collector.textfile.directory``) when it
starts, every ``interval`` seconds while it runs, and once more when it ends, each time
whole (a temporary file renamed over the old one), so a scrape never reads half a file.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ctxapi.seeding.load import Summary

INTERVAL_SECONDS = 5.0


class _Counts(Collector):
    """The summary's counts as gauges, read when the file is written."""

    def __init__(self, summary: Summary, running: threading.Event) -> None:
        self.summary = summary
        self.running = running
        self.started = time.time()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = dict(self.summary.stats)  # the writer thread may add a type meanwhile
        for outcome, text in (
            ("read", "Records read so far, by record type."),
            ("loaded", "Records created, updated, deleted or unchanged so far, by record type."),
            ("deleted", "Records deleted so far (deletes of what was there), by record type."),
            ("rejected", "Records rejected so far (see the rejects file), by record type."),
        ):
            family = GaugeMetricFamily(f"ctxapi_seed_records_{outcome}", text, labels=["type"])
            for name, counts in stats.items():
                family.add_metric([name], getattr(counts, outcome))
            yield family
        yield GaugeMetricFamily(
            "ctxapi_seed_running", "1 while the load runs, 0 once it ended.", self.running.is_set()
        )
        yield GaugeMetricFamily(
            "ctxapi_seed_started_timestamp_seconds", "When the load started.", self.started
        )
        yield GaugeMetricFamily(
            "ctxapi_seed_last_write_timestamp_seconds", "When this file was written.", time.time()
        )


class MetricsFile:
    """Writes ``summary`` to ``path`` now, every ``interval`` seconds, and at the end."""

    def __init__(self, path: Path, summary: Summary, interval: float = INTERVAL_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self._running = threading.Event()
        self._stop = threading.Event()
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(_Counts(summary, self._running))
        self._thread = threading.Thread(target=self._run, name="ctxapi-metrics-file", daemon=True)

    def write(self) -> None:
        """Write the file whole (prometheus_client renames a temporary file over it)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(self.path), self._registry)

    def __enter__(self) -> MetricsFile:
        self._running.set()
        self.write()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._running.clear()
        self.write()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.write()
