"""The local Neo4j server: assembled from Maven Central jars (neo4j-server/), run with Java 17.

Layout under ``<data_dir>/neo4j``: ``conf/neo4j.conf`` (rewritten from settings at every start),
``data/``, ``logs/`` (``neo4j.log``, ``debug.log``, ``console.log``), ``run/gnn-neo4j.pid`` and
``password`` (0600, generated at the first start). The JVM runs ``org.neo4j.server.CommunityEntryPoint``
directly with our flags, so the pid in the pid file is the server itself and ``stop`` signals it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DatabaseUnavailable, ServiceUnavailable, SessionExpired, TransientError

from gnn_neo4j.db import wait_for_bolt
from gnn_neo4j.settings import Settings, read_secret_file, write_secret_file

log = logging.getLogger(__name__)

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
INITIAL_PASSWORD = "neo4j"  # Neo4j's built-in initial password, replaced at the first start
# Java 17 module access Neo4j 5.26 and GDS need (the same list neo4j's own launcher passes)
JVM_MODULE_FLAGS = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
)


_LAUNCHED: dict[int, subprocess.Popen] = {}


class ServerError(RuntimeError):
    """The local server could not be started, stopped or found."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    browser_url: str
    home: Path
    data_dir: Path


class LocalServer:
    """Start, stop and inspect the local Neo4j server described by ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.server_dir
        self.conf_dir = self.root / "conf"
        self.logs_dir = self.root / "logs"
        self.run_dir = self.root / "run"
        self.pid_file = self.run_dir / "gnn-neo4j.pid"
        self.console_log = self.logs_dir / "console.log"

    # ---- inspection ----------------------------------------------------------------------------
    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.settings.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}/browser/"

    def pid(self) -> int | None:
        """The pid of our running server, or None. A stale pid file (dead or foreign process) is removed."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        if _is_our_server(pid):
            return pid
        log.info("removing stale pid file %s (pid %s is not a running server)", self.pid_file, pid)
        self.pid_file.unlink(missing_ok=True)
        return None

    def status(self) -> ServerStatus:
        pid = self.pid()
        return ServerStatus(pid is not None, pid, self.bolt_uri, self.browser_url, self.settings.neo4j_home, self.root)

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of neo4j.log (or the console log when the server died before logging)."""
        chunks = []
        for path in (self.logs_dir / "neo4j.log", self.console_log):
            if path.exists():
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
                chunks.append(f"==> {path} <==\n" + "\n".join(text[-lines:]))
        return "\n".join(chunks) or f"(no log files under {self.logs_dir})"

    # ---- start / stop --------------------------------------------------------------------------
    def start(self) -> tuple[bool, int]:
        """Start the server in the background and wait until Bolt answers and the password is set.

        Returns:
            (started, pid): started is False when it was already running.
        Raises:
            ServerError: with the tail of the server log when it fails to come up.
        """
        running = self.pid()
        if running is not None:
            return False, running
        self._check_assembly()
        for port in (self.settings.bolt_port, self.settings.http_port):
            if _port_in_use(port):
                raise ServerError(f"port {port} on 127.0.0.1 is already in use by another process")
        for directory in (self.conf_dir, self.logs_dir, self.run_dir, self.root / "data"):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        first_start = not self.settings.local_password_file.exists()
        if first_start:
            write_secret_file(self.settings.local_password_file, secrets.token_urlsafe(24))
        self._write_config()
        command = self._java_command()
        log.info("starting Neo4j: %s", " ".join(command[:3]))
        with open(self.console_log, "ab") as console:
            process = subprocess.Popen(
                command, stdout=console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.root, start_new_session=True,
            )
        _LAUNCHED[process.pid] = process  # reaped in _terminate; a CLI process simply exits and leaves it running
        self.pid_file.write_text(f"{process.pid}\n")
        up = wait_for_bolt("127.0.0.1", self.settings.bolt_port, self.settings.start_timeout_s, lambda: process.poll() is None)
        if not up:
            if process.poll() is None:
                self._terminate(process.pid)
            self.pid_file.unlink(missing_ok=True)
            raise ServerError(f"Neo4j did not come up on {self.bolt_uri}\n{self.log_tail()}")
        try:
            self._ensure_password(first_start)
        except Exception:
            self._terminate(process.pid)
            self.pid_file.unlink(missing_ok=True)
            raise
        return True, process.pid

    def stop(self) -> bool:
        """Stop gracefully (SIGTERM), then forcefully after ``stop_timeout_s``. False when not running."""
        pid = self.pid()
        if pid is None:
            return False
        self._terminate(pid)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _terminate(self, pid: int) -> None:
        try:
            self._stop_process(pid)
        finally:
            self._reap(pid)

    def _stop_process(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + self.settings.stop_timeout_s
        while time.monotonic() < deadline:
            if not _process_alive(pid):
                return
            time.sleep(0.2)
        log.warning("Neo4j (pid %s) did not stop within %.0fs; killing it", pid, self.settings.stop_timeout_s)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while _process_alive(pid):
            time.sleep(0.1)

    @staticmethod
    def _reap(pid: int) -> None:
        process = _LAUNCHED.pop(pid, None)
        if process is not None:
            process.wait()

    # ---- internals -----------------------------------------------------------------------------
    def _check_assembly(self) -> None:
        home = self.settings.neo4j_home
        if not (home / "lib").is_dir() or not any((home / "lib").glob("neo4j-5.*.jar")):
            raise ServerError(
                f"no assembled Neo4j under {home}; build it with `make server` "
                "(mvn -f neo4j-server/pom.xml package) or set GNN_NEO4J_HOME"
            )
        if shutil.which(self._java()) is None and not Path(self._java()).exists():
            raise ServerError("java not found: install OpenJDK 17 or set JAVA_HOME")

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        return str(Path(java_home) / "bin" / "java") if java_home else "java"

    def _java_command(self) -> list[str]:
        home = self.settings.neo4j_home
        heap = self.settings.heap_size
        return [
            self._java(), f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
            "-Dfile.encoding=UTF-8", "-Djava.awt.headless=true", *JVM_MODULE_FLAGS,
            "-cp", f"{home / 'lib'}/*:{home / 'plugins'}/*",
            ENTRY_POINT, f"--home-dir={home}", f"--config-dir={self.conf_dir}",
        ]

    def _write_config(self) -> None:
        s = self.settings
        home = s.neo4j_home
        lines = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.listen_address": f"127.0.0.1:{s.bolt_port}",
            "server.http.listen_address": f"127.0.0.1:{s.http_port}",
            "server.https.enabled": "false",
            "dbms.security.auth_enabled": "true",
            "dbms.security.auth_minimum_password_length": "12",
            "server.directories.data": str(self.root / "data"),
            "server.directories.logs": str(self.logs_dir),
            "server.directories.run": str(self.run_dir),
            "server.directories.plugins": str(home / "plugins"),
            "server.directories.lib": str(home / "lib"),
            "server.directories.import": str(self.root / "import"),
            "server.memory.pagecache.size": s.pagecache_size,
            "dbms.memory.transaction.total.max": "0",
            "dbms.security.procedures.unrestricted": "gds.*,apoc.*,gnn.*",
            "dbms.security.procedures.allowlist": "gds.*,apoc.*,gnn.*",
            "server.jvm.additional": "-XX:+UseG1GC",
            "db.tx_log.rotation.retention_policy": "2 files",
            "server.logs.gc.enabled": "false",
            "dbms.usage_report.enabled": "false",
        }
        text = "# Written by `gnn-neo4j server start` from settings; edits are overwritten.\n"
        text += "".join(f"{key}={value}\n" for key, value in lines.items())
        (self.conf_dir / "neo4j.conf").write_text(text, encoding="utf-8")

    def _ensure_password(self, first_start: bool) -> None:
        """At the first start replace Neo4j's initial password with the generated one; later, check it works."""
        password = read_secret_file(self.settings.local_password_file)
        user = self.settings.neo4j_user
        attempts = [("initial", INITIAL_PASSWORD), ("stored", password)] if first_start else [("stored", password)]
        deadline = time.monotonic() + 60
        for which, candidate in attempts:
            while True:
                try:
                    with GraphDatabase.driver(self.bolt_uri, auth=(user, candidate)) as driver:
                        if which == "initial":
                            with driver.session(database="system") as session:
                                session.run(
                                    "ALTER CURRENT USER SET PASSWORD FROM $old TO $new", old=INITIAL_PASSWORD, new=password
                                ).consume()
                            log.info("replaced the initial password of user %s with the generated one", user)
                        else:
                            driver.verify_authentication()
                    return
                except AuthError:
                    break
                except (ServiceUnavailable, SessionExpired, TransientError, DatabaseUnavailable):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
        raise ServerError(
            f"the server refuses the stored password ({self.settings.local_password_file}); the data dir "
            f"{self.root} belongs to another password - remove the data dir or restore its password file"
        )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        if state == "Z":
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            return False
    except (OSError, IndexError):
        pass
    return True


def _is_our_server(pid: int) -> bool:
    if not _process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return ENTRY_POINT in cmdline


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_VERSION_RE = re.compile(r'version "(\d+)')


def java_version() -> str | None:
    """The `java -version` string, or None when java is missing."""
    java = str(Path(os.environ["JAVA_HOME"]) / "bin" / "java") if os.environ.get("JAVA_HOME") else "java"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (out.stderr or out.stdout).splitlines()
    return first[0] if first else None
