"""The real server: Cypher, GDS through the Python client, APOC, our plugin, Browser, auth, lifecycle."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import replace

import pytest
from graphdatascience import GraphDataScience
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, ClientError

from gnn_neo4j.db import DatabaseError, GraphRunner
from gnn_neo4j.server import LocalServer, ServerError
from gnn_neo4j.settings import Secret

pytestmark = pytest.mark.neo4j


def test_cypher_round_trip_keeps_values_exact(runner):
    name = "x'}) DETACH DELETE n // \u00e9\u4e2d"
    runner.write("CREATE (:Asset {id: $id, name: $name, score: $score})", {"id": "a1", "name": name, "score": 0.125})
    rows = runner.read("MATCH (a:Asset {id: $id}) RETURN a.name AS name, a.score AS score", {"id": "a1"})
    assert rows == [{"name": name, "score": 0.125}]


def _chain(runner):
    runner.write(
        "UNWIND $rows AS row MERGE (a:Asset {id: row.src}) MERGE (b:Asset {id: row.dst}) "
        "MERGE (a)-[r:CAN_REACH]->(b) SET r.cost = row.cost, a.x = row.x",
        {"rows": [
            {"src": "a", "dst": "b", "cost": 1.0, "x": 1.0},
            {"src": "b", "dst": "d", "cost": 1.0, "x": 2.0},
            {"src": "a", "dst": "c", "cost": 1.5, "x": 1.0},
            {"src": "c", "dst": "d", "cost": 1.0, "x": 3.0},
            {"src": "a", "dst": "d", "cost": 5.0, "x": 1.0},
        ]},
    )
    runner.write("MATCH (d:Asset {id: 'd'}) SET d.x = 4.0")


def test_gds_projection_streams_properties_and_relationships(runner, neo4j_settings):
    _chain(runner)
    gds = GraphDataScience(neo4j_settings.neo4j_uri, auth=(neo4j_settings.neo4j_user, neo4j_settings.password()))
    try:
        graph, result = gds.graph.project.native(
            "test_chain", "Asset", {"CAN_REACH": {"properties": "cost"}}, node_properties=["x"]
        )
        try:
            assert (result.node_count, result.relationship_count) == (4, 5)
            nodes = gds.graph.node_properties.stream(graph, ["x"], db_node_properties=["id"])
            by_id = dict(zip(nodes["id"], nodes["x"]))
            assert by_id == {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
            rels = gds.graph.relationships.stream(graph, ["CAN_REACH"], ["cost"])
            internal = dict(zip(nodes["nodeId"], nodes["id"]))
            edges = {(internal[s], internal[t], c) for s, t, c in zip(rels["sourceNodeId"], rels["targetNodeId"], rels["cost"])}
            assert edges == {("a", "b", 1.0), ("b", "d", 1.0), ("a", "c", 1.5), ("c", "d", 1.0), ("a", "d", 5.0)}
        finally:
            graph.drop()
    finally:
        gds.close()


def test_gds_yens_k_shortest_paths(runner):
    _chain(runner)
    runner.write("CALL gds.graph.project('yens', 'Asset', {CAN_REACH: {properties: 'cost'}})")
    try:
        rows = runner.read(
            "MATCH (s:Asset {id: 'a'}), (t:Asset {id: 'd'}) "
            "CALL gds.shortestPath.yens.stream('yens', {sourceNode: s, targetNode: t, k: 3, relationshipWeightProperty: 'cost'}) "
            "YIELD index, totalCost, nodeIds RETURN index, totalCost, [n IN gds.util.asNodes(nodeIds) | n.id] AS ids ORDER BY index"
        )
    finally:
        runner.write("CALL gds.graph.drop('yens')")
    assert [(r["totalCost"], r["ids"]) for r in rows] == [(2.0, ["a", "b", "d"]), (2.5, ["a", "c", "d"]), (5.0, ["a", "d"])]


def test_apoc_and_gds_versions(runner):
    row = runner.read("RETURN apoc.version() AS apoc, gds.version() AS gds, apoc.text.join(['a', 'b'], '-') AS joined")[0]
    assert row["apoc"].startswith("5.26.")
    assert row["gds"].startswith("2.13.")
    assert row["joined"] == "a-b"


def test_gnn_plugin_version(runner):
    from importlib.metadata import version

    assert runner.read("RETURN gnn.version() AS v")[0]["v"] == version("gnn-neo4j")


def test_browser_page_is_served(neo4j_settings):
    if os.environ.get("NEO4J_URI"):
        pytest.skip("Browser is checked on the local server only (an external NEO4J_URI may not serve it)")
    url = f"http://127.0.0.1:{neo4j_settings.http_port}/browser/"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read().decode("utf-8", errors="replace")
        assert response.status == 200
    assert "<html" in body.lower() and "neo4j" in body.lower()


def test_wrong_password_is_refused(neo4j_settings):
    wrong = replace(neo4j_settings, neo4j_password=Secret("not-the-password-123"))
    with pytest.raises(DatabaseError, match="refused the credentials"):
        with GraphRunner(wrong) as bad:
            bad.verify()


def test_local_server_is_loopback_only_with_auth(neo4j_settings):
    if os.environ.get("NEO4J_URI"):
        pytest.skip("configuration of an external server is not ours")
    conf = (neo4j_settings.server_dir / "conf" / "neo4j.conf").read_text()
    assert "server.default_listen_address=127.0.0.1" in conf
    assert "dbms.security.auth_enabled=true" in conf
    assert oct(neo4j_settings.local_password_file.stat().st_mode & 0o777) == "0o600"
    with GraphDatabase.driver(neo4j_settings.neo4j_uri, auth=("neo4j", "neo4j")) as driver:
        try:
            accepted = driver.verify_authentication()
        except (AuthError, ClientError):
            accepted = False
    assert accepted is False  # the initial password was replaced at the first start


def test_start_when_running_reports_existing_pid(neo4j_settings):
    if os.environ.get("NEO4J_URI"):
        pytest.skip("lifecycle of an external server is not ours")
    server = LocalServer(neo4j_settings)
    pid = server.pid()
    assert pid is not None
    assert server.start() == (False, pid)


def test_stale_pid_file_is_removed(neo4j_settings, tmp_path):
    settings = replace(neo4j_settings, data_dir=tmp_path)
    server = LocalServer(settings)
    server.run_dir.mkdir(parents=True)
    server.pid_file.write_text("999999\n")  # beyond the default pid_max: no such process
    assert server.pid() is None
    assert not server.pid_file.exists()
    assert server.stop() is False


def test_failed_start_reports_log_tail_and_leaves_nothing(neo4j_settings, tmp_path):
    settings = replace(neo4j_settings, data_dir=tmp_path, bolt_port=17697, http_port=17484, heap_size="not-a-size")
    server = LocalServer(settings)
    with pytest.raises(ServerError, match="did not come up") as failure:
        server.start()
    assert "console.log" in str(failure.value)
    assert not server.pid_file.exists()
