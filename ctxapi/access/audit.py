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
            descriptor, written = self._file(), 0
            while written < len(line):  # a short write (a full disk) is finished or fails
                written += os.write(descriptor, line[written:])
        except OSError as error:
            raise AuditUnavailable(f"the audit log {self.path} cannot be written") from error
        if self.echo:
            sys.stdout.write("audit " + line.decode())
            sys.stdout.flush()

    def _file(self) -> int:
        """The log's descriptor, opened again when the file was rotated away (removed)."""
        with self._lock:
            if self._fd is not None and os.fstat(self._fd).st_nlink == 0:
                os.close(self._fd)
                self._fd = None
            if self._fd is None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
                self._fd = os.open(self.path, flags, 0o600)
                os.fchmod(self._fd, 0o600)  # a file made by an older version, or by hand
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
    complete = data.splitlines()
    if end > 0:  # the read began inside a line: not a whole record
        complete = complete[1:]
    records = [record for record in map(_parse, complete) if record is not None]
    return records[-lines:] if lines else []


def _parse(line: bytes) -> dict[str, Any] | None:
    """One record; after a record torn by a crash mid-write, the one appended to it."""
    try:
        return orjson.loads(line)  # type: ignore[no-any-return]
    except orjson.JSONDecodeError:
        start = line.rfind(b'{"at":')  # keys are sorted: every record begins so
        if start > 0:
            return _parse(line[start:])
        return None


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
                record = _parse(line)
                if record is not None:
                    yield record
        else:
            time.sleep(poll)
