"""The one seam to Neo4j: every Cypher statement the package runs goes through `GraphRunner`.

Reads and writes use the driver's managed transactions, which retry transient errors (leader switch,
deadlock). Batched writes send rows as a parameter to an ``UNWIND $rows`` statement. Values always travel
as parameters; the only identifiers placed into query text come from validated mappings/schema.
"""

from __future__ import annotations

import logging
import socket
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable, SessionExpired

from gnn_neo4j.settings import Settings

log = logging.getLogger(__name__)


class DatabaseError(RuntimeError):
    """Neo4j could not be reached, refused the credentials, or rejected a statement."""


def _explain(exc: Exception, settings: Settings) -> DatabaseError:
    if isinstance(exc, AuthError):
        return DatabaseError(
            f"Neo4j at {settings.neo4j_uri} refused the credentials of user {settings.neo4j_user!r} "
            "(check NEO4J_USER / NEO4J_PASSWORD or NEO4J_PASSWORD_FILE)"
        )
    if isinstance(exc, (ServiceUnavailable, SessionExpired, OSError)):
        hint = " - start it with `gnn-neo4j server start`" if settings.uses_local_server else ""
        return DatabaseError(f"Neo4j at {settings.neo4j_uri} is not reachable{hint} ({exc.__class__.__name__}: {exc})")
    if isinstance(exc, Neo4jError):
        return DatabaseError(f"Neo4j rejected the statement: {exc.code}: {exc.message}")
    return DatabaseError(str(exc))


class GraphRunner:
    """Runs Cypher against one database with retries and batching.

    Args:
        settings: connection settings (URI, user, password source, database).
        driver: an existing driver to reuse (tests); otherwise one is created and owned.
    """

    def __init__(self, settings: Settings, driver: neo4j.Driver | None = None) -> None:
        self.settings = settings
        self.database = settings.neo4j_database
        if driver is None:
            driver = GraphDatabase.driver(
                settings.neo4j_uri,
                auth=(settings.neo4j_user, settings.password()),
                connection_acquisition_timeout=30.0,
                max_transaction_retry_time=30.0,
                notifications_min_severity="OFF",
            )
            self._owns_driver = True
        else:
            self._owns_driver = False
        self.driver = driver

    # ---- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_driver:
            self.driver.close()

    def __enter__(self) -> "GraphRunner":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def verify(self) -> None:
        """Raise DatabaseError unless the server answers and accepts our credentials."""
        try:
            self.driver.verify_connectivity()
            self.driver.verify_authentication()
        except Exception as exc:  # noqa: BLE001 - translated into one clear error type
            raise _explain(exc, self.settings) from exc

    # ---- statements ----------------------------------------------------------------------------
    def read(self, query: str, params: dict[str, Any] | None = None, database: str | None = None) -> list[dict[str, Any]]:
        """Run a read query in a retried read transaction; return the records as dicts."""
        return self._run(neo4j.READ_ACCESS, query, params or {}, database)

    def write(self, query: str, params: dict[str, Any] | None = None, database: str | None = None) -> list[dict[str, Any]]:
        """Run a write query in a retried write transaction; return the records as dicts."""
        return self._run(neo4j.WRITE_ACCESS, query, params or {}, database)

    def _run(self, access: str, query: str, params: dict[str, Any], database: str | None) -> list[dict[str, Any]]:
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params)]

        try:
            with self.driver.session(database=database or self.database, default_access_mode=access) as session:
                if access == neo4j.READ_ACCESS:
                    return session.execute_read(work)
                return session.execute_write(work)
        except Exception as exc:  # noqa: BLE001
            raise _explain(exc, self.settings) from exc

    def write_batches(
        self,
        query: str,
        rows: Sequence[dict[str, Any]] | Iterable[dict[str, Any]],
        batch_size: int | None = None,
        params: dict[str, Any] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Run ``query`` (which reads ``$rows``) once per batch, each batch its own retried transaction.

        Returns the number of rows written. Idempotent statements (MERGE) make a rerun after a failure safe.
        """
        size = batch_size or self.settings.batch_size
        written = 0
        for batch in _chunks(rows, size):
            self.write(query, {**(params or {}), "rows": batch})
            written += len(batch)
            if on_batch is not None:
                on_batch(len(batch))
        return written

    @contextmanager
    def transaction(self, database: str | None = None) -> Iterator[neo4j.Transaction]:
        """One explicit transaction for all-or-nothing work: commits on success, rolls back on any error."""
        try:
            with self.driver.session(database=database or self.database) as session:
                with session.begin_transaction() as tx:
                    yield tx
                    tx.commit()
        except (Neo4jError, ServiceUnavailable, SessionExpired, OSError) as exc:
            raise _explain(exc, self.settings) from exc


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def bolt_answers(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """True when a Bolt server answers the protocol handshake at host:port.

    Only the handshake is exchanged - no credentials - so polling never counts as a failed login
    (Neo4j locks an account out after repeated failed attempts).
    """
    versions = bytes([0, 0, 4, 5]) + bytes([0, 0, 0, 4]) + bytes(8)  # 5.0-5.4, 4.0, none, none
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"\x60\x60\xb0\x17" + versions)
            agreed = sock.recv(4)
    except OSError:
        return False
    return len(agreed) == 4 and agreed != bytes(4)


def wait_for_bolt(host: str, port: int, timeout_s: float, alive: Callable[[], bool]) -> bool:
    """Poll the handshake until Bolt answers; False when ``alive()`` turns False or on timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not alive():
            return False
        if bolt_answers(host, port):
            return True
        time.sleep(0.5)
    return False
