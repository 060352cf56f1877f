"""A throw-away Neo4j for benchmarks: the local server in a temporary data dir, or $NEO4J_URI when set."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from typing import Iterator

from gnn_neo4j.settings import Settings, load_settings


@contextmanager
def bench_server(heap: str = "2g", pagecache: str = "1g") -> Iterator[Settings]:
    """Yield settings of a running, empty-at-start Neo4j; a server started here is stopped and deleted after."""
    if os.environ.get("NEO4J_URI"):
        yield load_settings()
        return
    from gnn_neo4j.server import LocalServer

    with tempfile.TemporaryDirectory(prefix="gnn-bench-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GNN_NEO4J_"))}
        settings = load_settings(env=env, data_dir=data_dir, bolt_port=27687, http_port=27474)
        settings = replace(settings, heap_size=heap, pagecache_size=pagecache)
        server = LocalServer(settings)
        server.start()
        try:
            yield settings
        finally:
            server.stop()


def clear(runner) -> None:
    """Delete everything in bounded transactions."""
    while runner.write("MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS c")[0]["c"]:
        pass
