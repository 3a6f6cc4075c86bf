"""Installing what the benchmark's peer needs, on demand: its npm packages (bench/peer/
node_modules, npm ci from the committed lock) and APOC core, which @neo4j/graphql calls for
the headline selection (apoc.date.convertFormat), in the benchmark's own Neo4j only."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bench.run import say
from ctxapi.neo4j_local import LocalNeo4j, fetch, require_tool
from ctxapi.neo4j_local.process import private_dir

PEER_DIR = Path(__file__).with_name("peer")
#: The newest APOC core release for Neo4j 5.26 that Maven resolves (APOC follows Neo4j's
#: minor version; its patch releases are fewer than the server's).
APOC_VERSION = "5.26.19"


def ensure_npm() -> None:
    """``npm ci`` in bench/peer when node_modules is missing or older than the lock."""
    stamp = PEER_DIR / "node_modules" / ".ctxapi-installed"
    sources = (PEER_DIR / "package.json", PEER_DIR / "package-lock.json")
    if stamp.exists() and all(stamp.stat().st_mtime >= s.stat().st_mtime for s in sources):
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise SystemExit(
            "The benchmark's peer (bench/peer) needs Node.js 20 or later with npm: install"
            " them, or leave the peer out with --no-peer (BENCH_PEER=0)."
        )
    say("Installing the peer's packages (npm ci in bench/peer) ...")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, capture_output=True, text=True
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"npm ci failed in bench/peer (exit {done.returncode}):\n{tail}")
    stamp.touch()


def _artifact(jar: str) -> str:
    """``commons-lang3-3.12.0.jar`` → ``commons-lang3``."""
    return re.sub(r"-\d[^-]*\.jar$", "", jar)


def apoc_jars(home: Path) -> list[Path]:
    """APOC core and the jars it needs that Neo4j's own lib lacks, fetched with Maven once
    into ``home/apoc/<version>/``."""
    folder = home / "apoc" / APOC_VERSION
    if not (folder / ".complete").exists():
        mvn = require_tool("mvn", "Apache Maven (Debian: maven)")
        staging = folder.with_name(APOC_VERSION + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        say(f"Fetching APOC core {APOC_VERSION} with Maven for the peer (first run only) ...")
        done = subprocess.run(
            [mvn, "--batch-mode", "--quiet", "--file", str(PEER_DIR / "apoc-pom.xml"),
             f"-Dapoc.version={APOC_VERSION}", "dependency:copy-dependencies",
             f"-DoutputDirectory={staging}", "-DincludeScope=runtime"],
            capture_output=True,
            text=True,
        )  # fmt: skip
        if done.returncode != 0 or not any(staging.glob("apoc-core-*.jar")):
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise SystemExit(f"Maven could not fetch APOC core {APOC_VERSION}:\n{tail}")
        (staging / ".complete").write_text(APOC_VERSION + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    have = {_artifact(jar.name) for jar in fetch(home, quiet=True).glob("*.jar")}
    return sorted(jar for jar in folder.glob("*.jar") if _artifact(jar.name) not in have)


class PeerNeo4j(LocalNeo4j):
    """A benchmark Neo4j with APOC core in its own plugins folder and its procedures allowed
    in its own configuration (the peer needs them; nothing else gets them)."""

    def _config_text(self) -> str:
        return (
            super()._config_text()
            + "# APOC core, for the benchmark's peer (bench/peer.py)\n"
            + "dbms.security.procedures.allowlist=apoc.*\n"
        )

    def start(
        self, *, timeout: float = 120.0, ephemeral: bool = False, quiet: bool = False
    ) -> bool:
        plugins = private_dir(self.root / "plugins")
        for jar in apoc_jars(self.home):
            if not (plugins / jar.name).exists():
                shutil.copyfile(jar, plugins / jar.name)
        return super().start(timeout=timeout, ephemeral=ephemeral, quiet=quiet)
