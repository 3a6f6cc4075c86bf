"""The audit log: one JSON line per unmasked PII read, per write and per key change.

A line names who (the key's name and id), what (the operation, the fields, the customers'
ids), when, and the request id; never a value of the personal data itself. Lines are appended
to ``CTXAPI_AUDIT_LOG`` (``.ctxapi/audit.jsonl`` by default; created 0600) with one
``write`` on a file opened ``O_APPEND``, so the workers of an instance share the file without
interleaving; ``CTXAPI_AUDIT_STDOUT=1`` (what ``make run`` sets) prints them too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any

import orjson


class AuditUnavailable(RuntimeError):
    """The audit log cannot be written: what it would have recorded is not done."""


class AuditLog:
    """Appends audit records to a file (and stdout)."""

    def __init__(self, path: Path, echo: bool = False) -> None:
        self.path = path
        self.echo = echo
        self._fd: int | None = None
        self._lock = Lock()

    def record(self, event: str, **fields: Any) -> None:
        """Append one record; AuditUnavailable when the file cannot be written."""
        entry = {"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event}
        line = orjson.dumps(entry | fields, option=orjson.OPT_SORT_KEYS) + b"\n"
        try:
            os.write(self._file(), line)
        except OSError as error:
            raise AuditUnavailable(f"the audit log {self.path} cannot be written") from error
        if self.echo:
            sys.stdout.write("audit " + line.decode())
            sys.stdout.flush()

    def _file(self) -> int:
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(self.path, flags, 0o600)
            return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def tail(path: Path, lines: int) -> list[dict[str, Any]]:
    """The last ``lines`` records of the audit log at ``path`` (oldest first)."""
    if not path.exists():
        return []
    with path.open("rb") as file:
        file.seek(0, os.SEEK_END)
        end = file.tell()
        block, data = 64 * 1024, b""
        while end > 0 and data.count(b"\n") <= lines:
            start = max(0, end - block)
            file.seek(start)
            data = file.read(end - start) + data
            end = start
    records = [orjson.loads(line) for line in data.splitlines() if line.strip()]
    return records[-lines:] if lines else []


def follow(path: Path, poll: float = 0.5) -> Iterator[dict[str, Any]]:
    """Records appended to ``path`` from now on (``ctxapi audit tail --follow``)."""
    import time

    position = path.stat().st_size if path.exists() else 0
    pending = b""
    while True:
        if path.exists() and path.stat().st_size > position:
            with path.open("rb") as file:
                file.seek(position)
                chunk = file.read()
            position += len(chunk)
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                if line.strip():
                    yield orjson.loads(line)
        else:
            time.sleep(poll)
