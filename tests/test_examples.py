"""The client examples (examples/): built from the committed SDL, run against a real server.

`make examples-build` installs the TypeScript example's packages from its lock (once), makes
its typed operations from schema/ctxapi.graphql and compiles it with tsc (strict): an SDL
change that breaks the example fails here. Both sidebars then talk to a real `ctxapi serve`
over the demo stories, on the demo's day.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ctxapi.access.keys import KeyStore, Scope
from ctxapi.cli import DEMO_DIR
from ctxapi.config import PROJECT_ROOT, Settings
from ctxapi.db import Database
from tests.conftest import clear_graph
from tests.seeding import seed_load
from tests.test_serving import serving

pytestmark = pytest.mark.slow

DEMO_DAY = "2026-11-23T12:00:00+00:00"
EXAMPLES = PROJECT_ROOT / "examples"
INTERACTION_ID = re.compile(r"Recorded contact (ctx-[0-9a-f]{32}) \(PHONE, 2026-11-23T12:00:00Z\)")


@dataclass(frozen=True)
class Sidebar:
    """One example client: how to run it."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class Ran:
    status: int
    out: str
    err: str


@dataclass(frozen=True)
class Api:
    url: str
    key: str


def _build() -> None:
    """`make examples-build`; without npm (or with a broken lock) it fails, saying why."""
    make = shutil.which("make")
    assert make, "make was not found: the client examples are built with `make examples-build`"
    built = subprocess.run(
        [make, "--no-print-directory", "examples-build"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr


@pytest.fixture(scope="module")
def sidebars() -> dict[str, Sidebar]:
    _build()
    node = shutil.which("node")
    assert node, "node was not found: the TypeScript example needs Node.js 20 or later"
    return {
        "typescript": Sidebar((node, str(EXAMPLES / "typescript/dist/sidebar.js"))),
        "python": Sidebar((sys.executable, str(EXAMPLES / "python/sidebar.py"))),
    }


@pytest.fixture(scope="module")
def api(
    db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """`ctxapi serve` over the demo stories on the demo's day, and an agent desktop's key:
    it reads the card (masked) and records contacts, for the demo brand only."""
    clear_graph(db)
    loaded = seed_load(settings, tmp_path_factory.mktemp("rejects"), DEMO_DIR)
    assert loaded.exit_code == 0, loaded.output
    key, _ = KeyStore(db).create(
        "sidebar-" + uuid.uuid4().hex[:8],
        [Scope.CONTEXT_READ, Scope.INTERACTIONS_WRITE],
        ["northwind"],
    )
    # (a busy host may plan the card's insights cold for over 10 s: no timeout test here)
    slow_ok = {"CTXAPI_QUERY_TIMEOUT": "120", "CTXAPI_WORKER_TIMEOUT": "180"}
    folder = tmp_path_factory.mktemp("served")
    with serving(settings, folder, CTXAPI_NOW=DEMO_DAY, **slow_ok) as served:
        yield Api(served.base + "/graphql", key)


def run(sidebar: Sidebar, api: Api, *arguments: str, key: str | None = None) -> Ran:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CTXAPI_", "NEO4J_"))}
    environ.update(CTXAPI_URL=api.url, CTXAPI_KEY=key or api.key, PYTHONUTF8="1")
    done = subprocess.run(
        [*sidebar.command, *arguments],
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


CLIENTS = ["typescript", "python"]


def test_the_typescript_sidebar_compiles_only_against_what_its_operations_select(
    sidebars: dict[str, Sidebar], tmp_path: Path
) -> None:
    # given a copy of the example whose card query no longer selects the tier it prints
    copy = tmp_path / "examples" / "typescript"
    ignore = shutil.ignore_patterns("node_modules", "dist", "generated")
    shutil.copytree(EXAMPLES / "typescript", copy, ignore=ignore)
    (copy / "node_modules").symlink_to(EXAMPLES / "typescript" / "node_modules")
    (tmp_path / "schema").symlink_to(PROJECT_ROOT / "schema")
    document = copy / "src" / "sidebar.graphql"
    document.write_text(document.read_text().replace("    tier\n", "", 1))
    # when it is built as make examples-build builds it
    generated = _npx(copy, "graphql-codegen", "--config", "codegen.ts")
    compiled = _npx(copy, "tsc", "-p", "tsconfig.json", "--noEmit")
    # then the generated types follow the document, and tsc refuses the read of `tier`
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert compiled.returncode != 0
    assert re.search(r"src/sidebar\.ts\(\d+,\d+\): error TS2339: .*'tier'", compiled.stdout)


def _npx(folder: Path, *command: str) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx")
    assert npx, "npx was not found: the TypeScript example needs Node.js 20 or later with npm"
    return subprocess.run(
        [npx, "--no-install", *command],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_typescript_sidebar_prints_the_card_of_whoever_is_on_the_line(
    sidebars: dict[str, Sidebar], api: Api
) -> None:
    # when the agent's tool has her email, in her own spelling
    ran = run(sidebars["typescript"], api, " Sofia.Marquez@EXAMPLE.com")
    # then: who, her last order and its damaged parcel, her contacts, what to do first
    assert ran.status == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == "Sofia Marquez (C-1001) · VIP · churn risk HIGH"
    assert lines[1] == "  12 orders, 2872.40 EUR · 1 open case"
    assert lines[2] == "Last order NW-105880 on 2026-11-12: DELIVERED, 688.00 EUR"
    assert re.fullmatch(r"  parcel SH-1112 \(.+\) DELIVERED, DAMAGED on 2026-11-\d\d", lines[3])
    assert lines[4] == "Last contacts"
    assert lines[5].startswith("  2026-11-21 PHONE INBOUND ESCALATED: ")
    assert len(lines[5 : lines.index("Next best actions")]) == 3
    first = lines[lines.index("Next best actions") + 1]
    assert first.startswith("  1. APOLOGIZE_AND_COMPENSATE [CASE CS-1001, SHIPMENT SH-1112]: ")


def test_the_python_sidebar_prints_the_same_card_from_her_phone_number(
    sidebars: dict[str, Sidebar], api: Api
) -> None:
    # when
    by_phone = run(sidebars["python"], api, "612 345 678", "--region", "ES")
    by_email = run(sidebars["typescript"], api, "sofia.marquez@example.com")
    # then both clients read the same customer and print the same card
    assert by_phone.status == 0, by_phone.err
    assert by_phone.out.startswith("Sofia Marquez (C-1001) · VIP")
    assert by_phone.out == by_email.out


def test_a_contact_is_recorded_once_per_idempotency_key_and_shows_on_the_card(
    sidebars: dict[str, Sidebar], api: Api
) -> None:
    # given
    typescript, python = sidebars["typescript"], sidebars["python"]
    key = "example-" + uuid.uuid4().hex
    record = ("--record", "Called about the torn parka", "--idempotency-key", key)
    # when the TypeScript sidebar records the call, then sends the same request again
    first = run(typescript, api, "sofia.marquez@example.com", *record)
    again = run(typescript, api, "sofia.marquez@example.com", *record)
    # then the first wrote a contact, the second is its replay with the same id
    assert first.status == 0, first.err
    recorded = INTERACTION_ID.search(first.out)
    assert recorded, first.out
    assert "replayed" not in first.out
    assert again.status == 0, again.err
    assert f"Recorded contact {recorded[1]} " in again.out
    assert "(replayed: already recorded with this key, nothing new written)" in again.out
    # when the Python sidebar records an email from her with a key of its own
    other = run(
        python,
        api,
        "+34 612 34 56 78",
        *("--record", "Sent the return label", "--channel", "email", "--direction", "outbound"),
    )
    # then that is a new contact, and the card shows both, newest first (the demo's clock)
    assert other.status == 0, other.err
    assert other.out.splitlines()[-1].startswith("Recorded contact ctx-")
    assert recorded[1] not in other.out
    card = run(python, api, "sofia.marquez@example.com").out.splitlines()
    contacts = card[card.index("Last contacts") + 1 :][:2]
    assert sorted(contacts) == [
        "  2026-11-23 EMAIL OUTBOUND RESOLVED: Sent the return label",
        "  2026-11-23 PHONE INBOUND RESOLVED: Called about the torn parka",
    ]


@pytest.mark.parametrize("client", CLIENTS)
def test_a_refused_contact_prints_the_user_errors_and_fails(
    sidebars: dict[str, Sidebar], api: Api, client: str
) -> None:
    # given a contact recorded with a key
    key = ("--idempotency-key", "example-" + uuid.uuid4().hex)
    first = run(sidebars[client], api, "sofia.marquez@example.com", "--record", "Asked", *key)
    assert first.status == 0, first.err
    # when another contact is sent with the same key
    ran = run(sidebars[client], api, "sofia.marquez@example.com", "--record", "Other", *key)
    # then the card is printed, the contact is not, and the exit status says so
    assert ran.status == 1
    assert ran.out.startswith("Sofia Marquez (C-1001)")
    assert re.search(r"^Not recorded: input\.\w+: .+ \(IDEMPOTENCY_CONFLICT\)$", ran.out, re.M)
    assert "Recorded contact" not in ran.out


@pytest.mark.parametrize("client", CLIENTS)
def test_nobody_and_a_bad_key_are_told_plainly(
    sidebars: dict[str, Sidebar], api: Api, client: str
) -> None:
    # when
    nobody = run(sidebars[client], api, "nobody@example.com")
    bad_key = run(sidebars[client], api, "sofia.marquez@example.com", key="ctx_live_" + "0" * 40)
    usage = run(sidebars[client], api, "--channel", "PIGEON", "sofia.marquez@example.com")
    helped = run(sidebars[client], api, "--help")
    # then
    assert (nobody.status, nobody.out) == (1, "No customer has this identifier.\n")
    assert bad_key.status == 1
    assert "(UNAUTHENTICATED)" in bad_key.err
    assert "Sofia" not in bad_key.out + bad_key.err
    assert usage.status == 2
    assert "PHONE" in usage.err  # names the channels it accepts
    assert helped.status == 0
    assert "CTXAPI_KEY" in helped.out
    assert "--idempotency-key" in helped.out
