"""The operating-system side of the local Neo4j: its JVM process, its ports, its files.

Launching the server, telling whether a pid is that server, stopping it, and writing the files
ctxapi keeps beside it. All of it is private to the user running ctxapi: Neo4j runs with umask
077 (its data, transactions and logs are 0600, their folders 0700), folders made here are 0700
and files written here 0600, also when they already existed with wider modes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import BinaryIO

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"

# The flags bin/neo4j passes to the JVM (from its default neo4j.conf), so that this
# process behaves like the packaged server.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)

#: The umask of Neo4j and neo4j-admin: what they create is for the user running ctxapi only.
PRIVATE_UMASK = 0o077
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_PR_SET_PDEATHSIG = 1


# -- private files ---------------------------------------------------------------------------
def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700; return it.

    A folder of another user (CTXAPI_HOME=/tmp, say) is left as it is: only its owner may
    change its mode.
    """
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(PRIVATE_DIR)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a 0600 file, narrowing the mode of an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as file:
        os.fchmod(fd, PRIVATE_FILE)
        file.write(text)


def open_private_append(path: Path) -> BinaryIO:
    """``path`` opened to append bytes, as a 0600 file (like ``path.open("ab")`` otherwise)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
        return os.fdopen(fd, "ab")
    except BaseException:
        os.close(fd)
        raise


# -- ports -----------------------------------------------------------------------------------
def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (so Neo4j can bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bolt_listening(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


# -- the server process ----------------------------------------------------------------------
def spawn_server(
    java: str,
    lib: Path,
    *,
    heap: str,
    root: Path,
    conf_dir: Path,
    console: Path,
    ephemeral: bool,
) -> subprocess.Popen[bytes]:
    """Start the server JVM for the instance in ``root``, its output appended to ``console``.

    ``ephemeral`` asks Linux to SIGTERM the server when this process dies.
    """
    command = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *JVM_FLAGS,
        "-cp",  # plugins too, as Neo4j's own launcher has them (APOC's extensions need it)
        f"{lib}/*{os.pathsep}{root}/plugins/*",
        ENTRY_POINT,
        f"--home-dir={root}",
        f"--config-dir={conf_dir}",
    ]
    with open_private_append(console) as log:
        return subprocess.Popen(
            command,
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session, so a Ctrl-C aimed at `make run` reaches ctxapi, which then
            # stops Neo4j cleanly, instead of killing the JVM mid-write.
            start_new_session=True,
            umask=PRIVATE_UMASK,
            preexec_fn=_set_parent_death_signal if ephemeral else None,
        )


def _set_parent_death_signal() -> None:
    """In the child: ask Linux to SIGTERM it when its parent dies (throwaway instances)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def is_our_server(pid: int, root: Path) -> bool:
    """True when pid is alive and is a Neo4j JVM serving the given instance folder."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    home_arg = f"--home-dir={root}".encode()
    return ENTRY_POINT.encode() in cmdline and home_arg in cmdline and not _is_zombie(pid)


def stop_process(pid: int, timeout: float) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it has not exited after ``timeout`` seconds."""
    os.kill(pid, signal.SIGTERM)
    if not wait_for_exit(pid, timeout):
        kill_process(pid)


def kill_process(pid: int) -> None:
    """SIGKILL ``pid`` and wait (up to 10 s) until it has exited."""
    os.kill(pid, signal.SIGKILL)
    wait_for_exit(pid, 10)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def wait_for_exit(pid: int, timeout: float) -> bool:
    """True once ``pid`` has exited (or is a zombie), False if it still runs at ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # A zombie has exited: its parent (maybe us, see LocalNeo4j._reap) collects it.
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return True
        time.sleep(0.1)
    return False
