"""Session fixtures: the real Neo4j server.

By default the session starts the local server (assembled by `make server`) in a temporary data dir on
ports 17687/17474, so a developer's own server on 7687 is untouched, and stops it at the end. With
NEO4J_URI set, the tests use that server instead (NEO4J_PASSWORD / NEO4J_PASSWORD_FILE) and start nothing.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from gnn_neo4j.settings import Settings, load_settings

TEST_BOLT_PORT = int(os.environ.get("GNN_TEST_BOLT_PORT", "17687"))
TEST_HTTP_PORT = int(os.environ.get("GNN_TEST_HTTP_PORT", "17474"))


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at a running Neo4j with GDS, APOC and the gnn plugin."""
    if os.environ.get("NEO4J_URI"):
        yield load_settings(data_dir=tmp_path_factory.mktemp("gnn-data"))
        return
    from gnn_neo4j.server import LocalServer

    data_dir = tmp_path_factory.mktemp("gnn-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "GNN_NEO4J_"))}
    settings = load_settings(env=env, data_dir=data_dir, bolt_port=TEST_BOLT_PORT, http_port=TEST_HTTP_PORT)
    settings = replace(settings, heap_size=os.environ.get("GNN_TEST_HEAP", "1g"))
    server = LocalServer(settings)
    server.start()
    try:
        yield settings
    finally:
        server.stop()


@pytest.fixture(scope="session")
def session_runner(neo4j_settings: Settings):
    from gnn_neo4j.db import GraphRunner

    with GraphRunner(neo4j_settings) as runner:
        yield runner


def clear_database(runner) -> None:
    while runner.write("MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS c")[0]["c"]:
        pass
    for row in runner.read("CALL gds.graph.list() YIELD graphName RETURN graphName"):
        runner.write("CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName", {"name": row["graphName"]})


@pytest.fixture
def runner(session_runner):
    """The session's runner over an empty database (cleared before each test)."""
    clear_database(session_runner)
    return session_runner


@pytest.fixture
def shared_data() -> Path:
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        path = Path(os.environ.get("GNN_SHARED_DIR", "/work/shared")) / "data"
    return path


@pytest.fixture
def cli_env(neo4j_settings: Settings) -> dict[str, str]:
    """Environment for `gnn-neo4j` commands run through click's CliRunner against the session's server."""
    env = {
        "GNN_NEO4J_DATA_DIR": str(neo4j_settings.data_dir),
        "GNN_NEO4J_BOLT_PORT": str(neo4j_settings.bolt_port),
        "GNN_NEO4J_HTTP_PORT": str(neo4j_settings.http_port),
    }
    if os.environ.get("NEO4J_URI"):
        env["NEO4J_URI"] = os.environ["NEO4J_URI"]
    return env
