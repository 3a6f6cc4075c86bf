"""Reading record files: lines in bounded chunks, records out of them, and what is wrong with them.

A line over the size limit is skipped in chunks (its first bytes are kept for the reject), a
byte-order mark at the start of a file is dropped, a JSON object with a key twice is refused
(orjson would keep the last one silently), and a damaged or truncated ``.gz`` stops the file with
``CorruptFile`` once the lines before the damage have been read.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

DEFAULT_MAX_RECORD_BYTES = 1_000_000
RAW_PREFIX_BYTES = 1_000  # what the rejects file keeps of a line over the limit
_CHUNK = 1 << 16
_BOM = b"\xef\xbb\xbf"
# A JSON string token, and the colon after it when it is an object's key. Matched from the
# start of a line, the tokens found are the line's strings exactly (no quote is outside one).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"(\s*+:)?')


@dataclass(frozen=True)
class Origin:
    """Where a record came from, for its reject."""

    file: str
    line: int
    raw: str


class CorruptFile(Exception):
    """A compressed file cannot be read past a point: it is truncated or damaged."""

    def __init__(self, path: Path, lines: int, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.lines = lines  # the lines read completely before the damage
        self.reason = reason


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def read_lines(
    path: Path, max_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[tuple[int, bytes, int, int]]:
    """(line number, raw bytes, size, bytes read so far) for each non-blank line.

    ``size`` is 0 for a line of at most ``max_bytes`` (without its line break), else the line's
    size, and ``raw`` then only its first bytes: at most ``max_bytes`` + 2 bytes of a line are
    ever in memory, the rest of a longer one is read in chunks and dropped.
    """
    limit = max_bytes + 2  # room for "\r\n"
    number = position = 0
    try:
        with _open(path) as stream:
            readline = stream.readline
            while raw := readline(limit):
                number += 1
                position += len(raw)
                over = len(raw) == limit and raw[-1:] != b"\n"  # the rest is still to read
                if number == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                if over:
                    size, end = len(raw), raw[-2:]
                    while rest := readline(_CHUNK):
                        position += len(rest)
                        size += len(rest)
                        end = (end + rest)[-2:]
                        if rest[-1:] == b"\n":
                            break
                    size -= 2 if end == b"\r\n" else 1 if end[-1:] == b"\n" else 0
                    yield number, raw[:RAW_PREFIX_BYTES], size, position
                    continue
                line = raw.rstrip(b"\r\n")
                if len(line) > max_bytes:
                    yield number, line[:RAW_PREFIX_BYTES], len(line), position
                elif line.strip():
                    yield number, line, 0, position
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise CorruptFile(path, number, str(error) or type(error).__name__) from error


Parsed = tuple[Origin, dict[str, Any] | None, Any, int]


def parse_records(path: Path, max_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> Iterator[Parsed]:
    """(origin, record or None, errors, bytes read) for each record of a JSONL or CSV file."""
    is_csv = ".csv" in path.name
    header: list[str] | None = None  # [] when the header line itself was rejected
    for number, raw, size, position in read_lines(path, max_bytes):
        if size:
            origin = Origin(str(path), number, raw.decode("utf-8", errors="replace"))
            reason = f"record of {size:,} bytes is over the limit of {max_bytes:,}"
            header = [] if is_csv and header is None else header
            yield origin, None, {"_line": [reason]}, position
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            origin = Origin(str(path), number, raw.decode("utf-8", errors="replace"))
            reason = f"not UTF-8: byte 0x{raw[error.start]:02x} at position {error.start}"
            header = [] if is_csv and header is None else header
            yield origin, None, {"_line": [reason]}, position
            continue
        origin = Origin(str(path), number, text)
        if is_csv:
            cells = next(csv.reader(io.StringIO(text)))
            if header is None:
                header = [cell.strip() for cell in cells]
                continue
            if not header:
                reason = "no header to read the row by: the header line is a reject"
                yield origin, None, {"_line": [reason]}, position
                continue
            if len(cells) != len(header):
                reason = f"{len(cells)} cells where the header has {len(header)} columns"
                yield origin, None, {"_line": [reason]}, position
                continue
            yield origin, dict(zip(header, cells, strict=True)), None, position
            continue
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            yield origin, None, {"_line": [f"not valid JSON: {error}"]}, position
            continue
        if not isinstance(record, dict):
            yield origin, None, {"_line": ["a line must hold one JSON object"]}, position
            continue
        problems = _key_problems(raw, record)
        if problems:
            yield origin, None, {"_line": problems}, position
            continue
        yield origin, record, None, position


def _key_problems(raw: bytes, record: dict[str, Any]) -> list[str]:
    try:
        repeated = duplicate_keys(raw, record)
    except RecursionError:  # orjson reads 1,024 levels, json about 1,000
        return ["objects and lists nested too deeply"]
    return [f"duplicate key {json.dumps(key, ensure_ascii=False)}" for key in repeated]


def duplicate_keys(raw: bytes, record: dict[str, Any]) -> list[str]:
    """The keys that some object of the JSON text ``raw`` holds twice (``record`` is its parse).

    orjson keeps the last of equal keys, so the parse, written out again, has fewer key tokens
    than ``raw`` exactly when a key repeats. Without a backslash in ``raw`` its strings read as
    written, so counting colons settles it (a colon is a key's, or one inside a string, the same
    in both); else the key tokens of both are counted by one regex scan each. Only a difference
    parses ``raw`` again, with ``json``, to name the keys.
    """
    try:
        written = orjson.dumps(record)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes
        return _repeated(raw)
    if b"\\" not in raw:
        if raw.count(b":") == written.count(b":"):
            return []
    elif _key_tokens(raw) == _key_tokens(written):
        return []
    return _repeated(raw)


def _key_tokens(text: bytes) -> int:
    return sum(1 for colon in _STRING.findall(text) if colon)


def _repeated(raw: bytes) -> list[str]:
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return {}

    with contextlib.suppress(ValueError):  # json reads what orjson reads
        json.loads(raw, object_pairs_hook=pairs)
    return found
