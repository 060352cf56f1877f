"""Generator, loader and importers against the real server: counts, facts, idempotence, all-or-nothing."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

from gnn_neo4j.cli import main
from gnn_neo4j.db import DatabaseError
from gnn_neo4j.graph import NodeSet, PropertyGraph
from gnn_neo4j.importers.bloodhound import read_bloodhound
from gnn_neo4j.loader import load_graph
from gnn_neo4j.synthetic import SyntheticDataGenerator

pytestmark = pytest.mark.neo4j


def _db_counts(runner) -> dict:
    nodes = {
        ":".join(sorted(r["labels"])): r["c"]
        for r in runner.read("MATCH (n) WHERE NOT n:GnnMigration RETURN labels(n) AS labels, count(*) AS c")
    }
    edges = {r["t"]: r["c"] for r in runner.read("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c")}
    return {"nodes": nodes, "edges": edges}


def _graph_counts(graph: PropertyGraph) -> dict:
    counts = graph.counts()
    return {"nodes": {":".join(sorted(k.split(":"))): v for k, v in counts["nodes"].items()}, "edges": counts["edges"]}


def _fingerprint(runner) -> list:
    rows = runner.read(
        "MATCH (n) WHERE NOT n:GnnMigration OPTIONAL MATCH (n)-[r]->(m) "
        "RETURN n.id AS id, properties(n) AS p, type(r) AS t, m.id AS m, properties(r) AS rp ORDER BY id, t, m"
    )
    return [json.dumps(row, sort_keys=True, default=str) for row in rows]


@pytest.fixture(scope="module")
def small_environment():
    return SyntheticDataGenerator(seed=3, size="small").generate_all()


def test_synthetic_load_counts_and_idempotence(runner, small_environment):
    report = load_graph(runner, small_environment.graph)
    assert report.atomic and report.rows_per_second > 0
    assert _db_counts(runner) == _graph_counts(small_environment.graph)
    before = _fingerprint(runner)
    load_graph(runner, small_environment.graph)
    assert _fingerprint(runner) == before


def test_batched_load_matches_atomic_load(runner, small_environment):
    report = load_graph(runner, small_environment.graph, batch_size=97, atomic_limit=0)
    assert not report.atomic
    assert _db_counts(runner) == _graph_counts(small_environment.graph)


def test_ground_truth_never_reaches_the_database(runner, small_environment):
    load_graph(runner, small_environment.graph)
    keys = {r["k"] for r in runner.read("MATCH (n) UNWIND keys(n) AS k RETURN DISTINCT k")}
    keys |= {r["k"] for r in runner.read("MATCH ()-[r]->() UNWIND keys(r) AS k RETURN DISTINCT k")}
    assert "exploited" in keys and "max_cvss" in keys
    assert not {k for k in keys if "true" in k or "hardening" in k or "compromise" in k}
    truth = small_environment.ground_truth
    stored = runner.read("MATCH ()-[r]->() WHERE r.exploited IS NOT NULL RETURN count(r) AS c")[0]["c"]
    assert stored == int(truth.edge_labelled.sum())


def test_failed_load_leaves_database_as_it_was(runner, small_environment):
    load_graph(runner, small_environment.graph)
    before = _fingerprint(runner)
    bad = PropertyGraph([
        NodeSet(("Asset", "Host"), np.array(["new-host"]), {"name": np.array(["fine"], dtype=object)}),
        # a map is not a storable property value: the server rejects the statement mid-transaction
        NodeSet(("Asset", "Host"), np.array(["bad-host"]), {"name": np.array([{"nested": 1}], dtype=object)}),
    ])
    with pytest.raises(DatabaseError):
        load_graph(runner, bad)
    assert _fingerprint(runner) == before


def test_generate_cli_loads_and_writes_ground_truth_apart(runner, cli_env, tmp_path):
    result = CliRunner().invoke(main, ["generate", "--size", "small", "--seed", "5", "--load", "--out", str(tmp_path), "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert (tmp_path / "ground_truth.npz").exists() and (tmp_path / "ground_truth.json").exists()
    total = runner.read("MATCH (n) WHERE NOT n:GnnMigration RETURN count(n) AS c")[0]["c"]
    assert total == out["nodes"] == out["load"]["nodes"]


def test_bloodhound_sample_import(runner, cli_env, shared_data):
    sample = shared_data / "bloodhound-ad-sample" / "ad_sampledata.zip"
    graph, report = read_bloodhound(sample)
    result = CliRunner().invoke(main, ["import", "bloodhound", str(sample), "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert _db_counts(runner) == _graph_counts(graph)
    # facts read back from Neo4j
    domain_admins = runner.read(
        "MATCH (g:Asset:Group) WHERE g.id ENDS WITH '-512' RETURN g.name AS name, g.critical AS critical"
    )
    assert domain_admins and all(row["critical"] is True for row in domain_admins)
    dcsync = runner.read("MATCH (p)-[:DCSync]->(d:Domain) RETURN count(*) AS c")[0]["c"]
    assert dcsync == report.edges_by_type["DCSync"]
    both = runner.read(
        "MATCH (p)-[:GetChanges]->(d:Domain), (p)-[:GetChangesAll]->(d) RETURN count(*) AS c"
    )[0]["c"]
    assert dcsync == both
    members = runner.read("MATCH (:Asset:User)-[:MemberOf]->(:Asset:Group) RETURN count(*) AS c")[0]["c"]
    assert members > 0
    sessions = runner.read("MATCH (c:Computer)-[:HasSession]->(u:User) RETURN count(*) AS c")[0]["c"]
    assert sessions == report.edges_by_type["HasSession"]


def test_bad_imports_change_nothing(runner, cli_env, small_environment, tmp_path, shared_data):
    load_graph(runner, small_environment.graph)
    before = _fingerprint(runner)
    sample = (shared_data / "bloodhound-ad-sample" / "ad_sampledata.zip").read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(sample[: len(sample) // 2])
    dangling = tmp_path / "dangling.json"
    dangling.write_text(json.dumps({"nodes": [{"id": "a", "labels": ["Host"]}],
                                    "edges": [{"source": "a", "target": "nope", "type": "CAN_REACH"}]}))
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"nodes": [ {"id": "a", "labels": ["Host"] ')
    for args, expected in (
        (["import", "bloodhound", str(truncated)], "truncated.zip"),
        (["import", "json", str(dangling)], "dangling.json"),
        (["import", "json", str(invalid)], "line"),
    ):
        result = CliRunner().invoke(main, args, env=cli_env)
        assert result.exit_code == 1, result.output
        assert expected in result.output
    assert _fingerprint(runner) == before


def test_json_import_round_trips_hostile_strings(runner, cli_env, tmp_path):
    hostile = "x'}) DETACH DELETE n // \"quoted\" \u00fcn\u00efc\u00f8de \u2603"
    document = {"nodes": [{"id": "web-1", "labels": ["Host"], "properties": {"name": hostile, "internet_exposed": True}},
                          {"id": hostile, "labels": ["DataStore"], "properties": {"critical": True}}],
                "edges": [{"source": "web-1", "target": hostile, "type": "CAN_REACH", "properties": {"port": 5432}}]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "json", str(path), "--mapping", "canonical"], env=cli_env)
    assert result.exit_code == 0, result.output
    rows = runner.read("MATCH (a:Asset:Host)-[r:CAN_REACH]->(b:Asset:DataStore) RETURN a.name AS name, b.id AS id, r.port AS port")
    assert rows == [{"name": hostile, "id": hostile, "port": 5432}]
