"""A local Neo4j Community server that ctxapi fetches from Maven Central and runs itself.

The jars come from Maven (``pom.xml`` beside this file resolves ``org.neo4j:neo4j``, the
artifact that holds the server entry point and ``neo4j-admin``); the server runs as one
``java`` process bound to 127.0.0.1 with authentication on. Layout of a home folder::

    <home>/neo4j/<version>/lib/      jars, shared by every instance of that version
    <home>/local/conf/neo4j.conf   (an instance folder; tests use throwaway ones elsewhere)
    <home>/local/data/ logs/ run/neo4j.pid  password

Files at rest are for the user running ctxapi only: the home and instance folders are 0700,
the files ctxapi writes (neo4j.conf, console log, pid file, password) 0600, and Neo4j and
neo4j-admin run with umask 077, so the data, transactions and logs they write are private too.
The process side (launching, stopping, ports, private files) lives in ``process``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ctxapi.neo4j_local.process import (
    ENTRY_POINT,
    JVM_FLAGS,
    PRIVATE_UMASK,
    bolt_listening,
    free_port,
    is_our_server,
    kill_process,
    port_is_free,
    private_dir,
    spawn_server,
    stop_process,
    write_private,
)

__all__ = [
    "ADMIN_ENTRY_POINT",
    "ENTRY_POINT",
    "JVM_FLAGS",
    "NEO4J_VERSION",
    "POM",
    "LocalNeo4j",
    "Neo4jLocalError",
    "Status",
    "fetch",
    "free_port",
    "port_is_free",
    "require_tool",
]

#: The one place the Neo4j version is pinned (the newest 5.26 LTS release that resolves).
NEO4J_VERSION = "5.26.31"

POM = Path(__file__).with_name("pom.xml")
ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"


class Neo4jLocalError(RuntimeError):
    """A local Neo4j could not be fetched, started or stopped; the message says why."""


@dataclass(frozen=True)
class Status:
    """What ``ctxapi neo4j status`` reports."""

    running: bool
    pid: int | None
    uri: str
    home: Path


def _say(message: str) -> None:
    # A closed terminal or pipe (Ctrl-C also ends `make run | tee`) must not stop a shutdown.
    with contextlib.suppress(OSError):
        print(message, file=sys.stderr, flush=True)


def require_tool(name: str, package_hint: str) -> str:
    """Return the path of an executable, or fail with one line saying what to install."""
    path = shutil.which(name)
    if path is None:
        raise Neo4jLocalError(
            f"`{name}` was not found on PATH: install {package_hint} to run the local Neo4j "
            "(or point NEO4J_URI at an existing Neo4j 5 server)."
        )
    return path


def fetch(home: Path, *, version: str = NEO4J_VERSION, quiet: bool = False) -> Path:
    """Resolve the Neo4j jars with Maven into ``home/neo4j/<version>/lib`` once; return it.

    Maven's own cache (~/.m2) makes a second fetch on the same machine offline.
    """
    lib = private_dir(home) / "neo4j" / version / "lib"
    if (lib / ".complete").exists():
        return lib
    require_tool("java", "a Java 17+ runtime (Debian: openjdk-17-jre-headless)")
    mvn = require_tool("mvn", "Apache Maven (Debian: maven)")
    staging = lib.with_name("lib.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if not quiet:
        _say(f"Fetching Neo4j Community {version} with Maven (first run only) ...")
    command = [
        mvn,
        "--batch-mode",
        "--quiet",
        "--file",
        str(POM),
        f"-Dneo4j.version={version}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise Neo4jLocalError(
            f"Maven could not fetch Neo4j {version} (exit {done.returncode}):\n{tail}"
        )
    if not any(staging.glob(f"neo4j-{version}.jar")):
        raise Neo4jLocalError(f"Maven finished but neo4j-{version}.jar is not in {staging}")
    (staging / ".complete").write_text(version + "\n")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    return lib


class LocalNeo4j:
    """One local Neo4j instance: its folders, configuration, process and password."""

    def __init__(
        self,
        home: Path,
        *,
        root: Path | None = None,
        port: int = 7687,
        heap: str = "2g",
        pagecache: str = "4g",
        password: str | None = None,
        version: str = NEO4J_VERSION,
    ) -> None:
        self.home = home
        self.root = root or home / "local"
        self.port = port
        self.heap = heap
        self.pagecache = pagecache
        self.version = version
        self._password = password
        # The server we started, kept so that stop() can reap it.
        self._process: subprocess.Popen[bytes] | None = None

    # -- paths -----------------------------------------------------------------------------
    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def log_file(self) -> Path:
        """Where the server writes its own log (user log)."""
        return self.root / "logs" / "neo4j.log"

    @property
    def console_file(self) -> Path:
        """The JVM's stdout and stderr (startup failures land here)."""
        return self.root / "logs" / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "run" / "neo4j.pid"

    @property
    def password_file(self) -> Path:
        return self.root / "password"

    @property
    def uri(self) -> str:
        return f"neo4j://127.0.0.1:{self.port}"

    # -- password --------------------------------------------------------------------------
    def password(self) -> str:
        """NEO4J_PASSWORD when given, else the one generated for this instance."""
        if self._password:
            return self._password
        if self.password_file.exists():
            return self.password_file.read_text().strip()
        return ""

    def _initialise(self, lib: Path) -> None:
        """Create folders, write neo4j.conf, and set the initial password once (all 0700/0600)."""
        private_dir(self.root)
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            private_dir(self.root / sub)
        write_private(self.conf_dir / "neo4j.conf", self._config_text())
        if (self.root / "data" / "dbms" / "auth.ini").exists():
            return
        # Hex, so that a generated password never starts with "-" (an option to neo4j-admin).
        password = self._password or secrets.token_hex(16)
        admin = subprocess.run(
            [
                "java",
                "-cp",
                f"{lib}/*",
                ADMIN_ENTRY_POINT,
                "dbms",
                "set-initial-password",
                "--",  # whatever follows is the password, even "-x"
                password,
            ],
            env={**os.environ, "NEO4J_HOME": str(self.root), "NEO4J_CONF": str(self.conf_dir)},
            capture_output=True,
            text=True,
            check=False,
            umask=PRIVATE_UMASK,
        )
        if admin.returncode != 0:
            raise Neo4jLocalError(
                "neo4j-admin could not set the initial password: "
                + (admin.stderr or admin.stdout).strip()[-800:]
            )
        write_private(self.password_file, password + "\n")

    def admin(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run ``neo4j-admin`` with ``arguments`` on this instance (its folders and neo4j.conf
        made first, as by a start); its output is captured, and its exit status is not checked.
        """
        lib = fetch(self.home, version=self.version, quiet=True)
        self._initialise(lib)
        java = require_tool("java", "a Java 17+ runtime (Debian: openjdk-17-jre-headless)")
        return subprocess.run(
            [java, "-cp", f"{lib}/*", ADMIN_ENTRY_POINT, *arguments],
            env={**os.environ, "NEO4J_HOME": str(self.root), "NEO4J_CONF": str(self.conf_dir)},
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            umask=PRIVATE_UMASK,
        )

    def _config_text(self) -> str:
        return "\n".join(
            [
                "# Written by ctxapi at every start; edit ctxapi's settings, not this file.",
                "server.default_listen_address=127.0.0.1",
                "server.default_advertised_address=127.0.0.1",
                f"server.bolt.listen_address=127.0.0.1:{self.port}",
                f"server.bolt.advertised_address=127.0.0.1:{self.port}",
                "server.http.enabled=false",
                "server.https.enabled=false",
                "dbms.security.auth_enabled=true",
                "dbms.usage_report.enabled=false",
                f"server.memory.heap.initial_size={self.heap}",
                f"server.memory.heap.max_size={self.heap}",
                f"server.memory.pagecache.size={self.pagecache}",
                # A transaction may use at most this much heap before it is stopped, so one
                # runaway query cannot take the server down.
                "db.memory.transaction.max=1g",
                "db.tx_log.rotation.retention_policy=1 days",
                "",
            ]
        )

    # -- process ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of the running server, cleaning a stale pid file on the way."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if is_our_server(pid, self.root):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def status(self) -> Status:
        pid = self.pid()
        return Status(running=pid is not None, pid=pid, uri=self.uri, home=self.root)

    def start(
        self,
        *,
        timeout: float = 120.0,
        ephemeral: bool = False,
        quiet: bool = False,
    ) -> bool:
        """Start the server and wait until Bolt answers; False if it was already running.

        ``ephemeral`` ties the server's life to this process (used by the test fixture).
        """
        if self.pid() is not None:
            return False
        if not port_is_free(self.port):
            raise Neo4jLocalError(
                f"Port {self.port} on 127.0.0.1 is already in use by another program: "
                "stop it, or choose another port with CTXAPI_NEO4J_PORT."
            )
        lib = fetch(self.home, version=self.version, quiet=quiet)
        self._initialise(lib)
        java = require_tool("java", "a Java 17+ runtime (Debian: openjdk-17-jre-headless)")
        if not quiet:
            _say(f"Starting Neo4j {self.version} on {self.uri} (data in {self.root}) ...")
        process = spawn_server(
            java,
            lib,
            heap=self.heap,
            root=self.root,
            conf_dir=self.conf_dir,
            console=self.console_file,
            ephemeral=ephemeral,
        )
        self._process = process
        write_private(self.pid_file, f"{process.pid}\n")
        self._wait_until_ready(process, timeout)
        if not quiet:
            _say(f"Neo4j is up on {self.uri} (pid {process.pid}).")
        return True

    def _wait_until_ready(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, DriverError, Neo4jError

        deadline = time.monotonic() + timeout
        auth = ("neo4j", self.password())
        while True:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise Neo4jLocalError(
                    f"Neo4j exited with status {process.returncode} while starting.\n"
                    + self.log_tail()
                )
            if bolt_listening(self.port):
                try:
                    with GraphDatabase.driver(
                        f"bolt://127.0.0.1:{self.port}",
                        auth=auth,
                        connection_timeout=2,
                        notifications_min_severity="OFF",
                    ) as driver:
                        driver.verify_connectivity()
                    return
                except AuthError as error:
                    raise Neo4jLocalError(
                        f"Neo4j is up but refused the password ({error.message}). The instance "
                        f"in {self.root} was created with the password in {self.password_file}; "
                        "unset NEO4J_PASSWORD or set it to that value."
                    ) from error
                except (DriverError, Neo4jError, OSError):
                    pass
            if time.monotonic() > deadline:
                self.stop(quiet=True)
                raise Neo4jLocalError(
                    f"Neo4j did not answer on {self.uri} within {timeout:.0f}s.\n" + self.log_tail()
                )
            time.sleep(0.25)

    def stop(self, *, timeout: float = 60.0, quiet: bool = False) -> bool:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        if not quiet:
            _say(f"Stopping Neo4j (pid {pid}) ...")
        stop_process(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        self._reap()
        return True

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait(timeout=10)
            self._process = None

    def kill(self) -> None:
        """SIGKILL the server at once (tests use it to simulate a crash)."""
        pid = self.pid()
        if pid is not None:
            kill_process(pid)
            self._reap()

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server and console logs, for error messages."""
        parts = []
        for path in (self.log_file, self.console_file):
            if path.exists():
                text = path.read_text(errors="replace").strip().splitlines()[-lines:]
                if text:
                    parts.append(f"--- last lines of {path} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no log written)"
