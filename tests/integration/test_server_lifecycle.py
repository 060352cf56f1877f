"""A second local server through the CLI: start, start again, status, stop - and no process left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from gnn_neo4j.cli import main

pytestmark = pytest.mark.neo4j


def _processes_using(conf_dir: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(conf_dir) in cmdline:
                found.append(int(entry.name))
    return found


def test_cli_lifecycle_leaves_no_process(tmp_path, neo4j_settings):
    if os.environ.get("NEO4J_URI"):
        pytest.skip("lifecycle of an external server is not ours")
    env = {
        "GNN_NEO4J_DATA_DIR": str(tmp_path),
        "GNN_NEO4J_BOLT_PORT": "17787",
        "GNN_NEO4J_HTTP_PORT": "17574",
        "GNN_NEO4J_HOME": str(neo4j_settings.neo4j_home),
        "GNN_NEO4J_HEAP": "512m",
    }
    cli = CliRunner()
    started = cli.invoke(main, ["server", "start"], env=env)
    try:
        assert started.exit_code == 0, started.output
        assert "Neo4j started" in started.output
        assert "password in" in started.output
        password = (tmp_path / "neo4j" / "password").read_text().strip()
        assert password not in started.output
        again = cli.invoke(main, ["server", "start"], env=env)
        assert again.exit_code == 0 and "already running" in again.output
        assert cli.invoke(main, ["server", "status"], env=env).exit_code == 0
        assert _processes_using(tmp_path / "neo4j" / "conf")
        query = cli.invoke(main, ["cypher", "RETURN gnn.version() AS v", "--json"], env=env)
        assert query.exit_code == 0, query.output
    finally:
        stopped = cli.invoke(main, ["server", "stop"], env=env)
    assert stopped.exit_code == 0 and "Neo4j stopped" in stopped.output
    assert _processes_using(tmp_path / "neo4j" / "conf") == []
    status = cli.invoke(main, ["server", "status"], env=env)
    assert status.exit_code == 1 and "not running" in status.output
    assert "Neo4j is not running" in cli.invoke(main, ["server", "stop"], env=env).output
    logs = cli.invoke(main, ["server", "logs", "-n", "5"], env=env)
    assert logs.exit_code == 0 and "neo4j.log" in logs.output
