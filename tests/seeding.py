"""Helpers for the seeding tests: run `ctxapi seed load` and read what it reported."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from ctxapi.cli import cli
from ctxapi.config import Settings
from ctxapi.db import Database
from tests.conftest import neo4j_env


@dataclass
class Outcome:
    """What one `ctxapi seed load` run did."""

    exit_code: int
    output: str
    rejects: list[dict[str, Any]]


def seed_load(
    settings: Settings,
    tmp_path: Path,
    *paths: Path | str,
    environ: dict[str, str] | None = None,
    **options: Any,
) -> Outcome:
    """Run ``ctxapi seed load`` against the test database; rejects go into ``tmp_path``.

    ``options`` become command-line options (``max_rejects=1``: ``--max-rejects 1``),
    ``environ`` holds more environment variables.
    """
    rejects = tmp_path / "rejects.jsonl"
    rejects.unlink(missing_ok=True)
    arguments = ["seed", "load", *map(str, paths), "--rejects", str(rejects)]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        arguments += [flag] if value is True else [flag, str(value)]
    result = CliRunner().invoke(cli, arguments, env=neo4j_env(settings) | (environ or {}))
    lines = rejects.read_bytes().splitlines() if rejects.exists() else []
    return Outcome(result.exit_code, result.output, [orjson.loads(line) for line in lines])


def write_lines(folder: Path, name: str, *lines: str | bytes) -> Path:
    """A record file made of the given raw lines (gzipped when the name ends with ``.gz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return path


def graph_counts(db: Database) -> dict[str, int]:
    """Nodes per label and relationships per type: two loads with equal counts match."""
    counts = {}
    nodes = (
        "MATCH (n) WHERE NOT n:Migration AND NOT n:ApiKey RETURN labels(n)[0] AS k, count(*) AS n"
    )
    for row in db.read(nodes):
        counts[row["k"]] = row["n"]
    for row in db.read("MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n"):
        counts[row["k"]] = row["n"]
    return counts
