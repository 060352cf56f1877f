"""Write-back generations against the real server and our procedures: visible only when complete, failures lose nothing."""

from __future__ import annotations

import numpy as np
import pytest

from gnn_neo4j.export import export_attack_graph
from gnn_neo4j.loader import load_graph
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.scoring import rank_paths
from gnn_neo4j.synthetic import SyntheticDataGenerator
from gnn_neo4j import writeback

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def environment():
    return SyntheticDataGenerator(seed=21, size="small").generate_all()


@pytest.fixture
def loaded(runner, environment):
    load_graph(runner, environment.graph)
    mapping = load_mapping("canonical")
    return mapping, export_attack_graph(runner, mapping, "cypher").data


def _scores(data, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, data.num_edges), rng.uniform(0, 1, data.num_nodes)


def _run(runner, mapping, data, seed, version):
    edge_prob, node_risk = _scores(data, seed)
    stamp = writeback.begin_run(runner, mapping, version)
    edges = list(zip(data.node_ids[data.edge_src], data.edge_type, data.node_ids[data.edge_dst]))
    paths = rank_paths(data, edge_prob, k=3, max_hops=6)
    counts = writeback.stage_scores(runner, mapping, stamp, data.node_ids, node_risk, edges, edge_prob, paths)
    return stamp, counts, edge_prob, node_risk, paths


def _top(runner, limit=5):
    return [(r["id"], r["risk"]) for r in runner.read("CALL gnn.topRisks($n) YIELD id, risk RETURN id, risk", {"n": limit})]


def test_complete_run_is_what_procedures_show(runner, loaded):
    mapping, data = loaded
    stamp, counts, edge_prob, node_risk, paths = _run(runner, mapping, data, 1, "m-1")
    assert counts == {"nodes": data.num_nodes, "edges": data.num_edges, "paths": len(paths)}
    assert runner.read("CALL gnn.status() YIELD generation RETURN generation")[0]["generation"] is None
    assert _top(runner) == []
    writeback.commit_run(runner, mapping, stamp, counts, {"auc_roc": 0.5})
    status = runner.read("CALL gnn.status() YIELD generation, modelVersion, metrics RETURN *")[0]
    assert (status["generation"], status["modelVersion"]) == (stamp.generation, "m-1")
    order = np.argsort(-node_risk, kind="stable")[:5]
    expected = [(data.node_ids[i], pytest.approx(node_risk[i])) for i in order]
    assert _top(runner) == expected
    best = runner.read("CALL gnn.rankedPaths(1) YIELD score, nodeIds RETURN score, nodeIds")[0]
    top_path = max(paths, key=lambda p: p.score)
    assert best["score"] == pytest.approx(top_path.score) and tuple(best["nodeIds"]) == top_path.node_ids
    # gnn.attackPaths recomputes in the database from gnn_exploit_prob: same best path
    live = runner.read(
        "CALL gnn.attackPaths($s, $t, 1, 8) YIELD path, probability RETURN probability, [n IN nodes(path) | n.id] AS ids",
        {"s": top_path.node_ids[0], "t": top_path.node_ids[-1]},
    )[0]
    assert live["probability"] == pytest.approx(top_path.score)
    staged = runner.read("MATCH (n) WHERE n.gnn_staged_generation IS NOT NULL RETURN count(n) AS c")[0]["c"]
    assert staged == 0


def test_failed_run_leaves_previous_generation_intact(runner, loaded):
    mapping, data = loaded
    first, counts, _, _, _ = _run(runner, mapping, data, 1, "m-1")
    writeback.commit_run(runner, mapping, first, counts, {})
    before_top = _top(runner, 20)
    before_paths = runner.read("CALL gnn.rankedPaths(100) YIELD score, nodeIds RETURN score, nodeIds")
    second, *_ = _run(runner, mapping, data, 2, "m-2")
    assert _top(runner, 20) == before_top  # staged scores are invisible
    writeback.fail_run(runner, mapping, second, "simulated failure")
    assert _top(runner, 20) == before_top
    assert runner.read("CALL gnn.rankedPaths(100) YIELD score, nodeIds RETURN score, nodeIds") == before_paths
    row = runner.read("MATCH (r:GnnRun {generation: $g}) RETURN r.status AS s, r.error AS e", {"g": second.generation})[0]
    assert row == {"s": "failed", "e": "simulated failure"}
    leftovers = runner.read(
        "MATCH (n) WHERE n.gnn_staged_risk IS NOT NULL RETURN count(n) AS c UNION ALL "
        "MATCH ()-[r]->() WHERE r.gnn_staged_exploit_prob IS NOT NULL OR r.generation = $g RETURN count(r) AS c",
        {"g": second.generation})
    assert [r["c"] for r in leftovers] == [0, 0]


def test_killed_run_is_abandoned_by_the_next_and_cleanup_keeps_only_current(runner, loaded):
    mapping, data = loaded
    first, counts, _, _, _ = _run(runner, mapping, data, 1, "m-1")
    writeback.commit_run(runner, mapping, first, counts, {})
    killed, *_ = _run(runner, mapping, data, 2, "m-2")  # never committed nor failed: the process "died"
    third, counts3, _, node_risk3, paths3 = _run(runner, mapping, data, 3, "m-3")
    states = {r["g"]: r["s"] for r in runner.read("MATCH (r:GnnRun) RETURN r.generation AS g, r.status AS s")}
    assert states == {first.generation: "complete", killed.generation: "abandoned", third.generation: "running"}
    with pytest.raises(RuntimeError, match="not the current complete"):
        writeback.cleanup(runner, mapping, third)
    writeback.commit_run(runner, mapping, third, counts3, {})
    removed = writeback.cleanup(runner, mapping, third)
    assert removed["paths"] > 0
    generations = {r["g"] for r in runner.read("MATCH ()-[p:ATTACK_PATH]->() RETURN DISTINCT p.generation AS g")}
    assert generations == {third.generation}
    assert runner.read("MATCH ()-[p:ATTACK_PATH]->() RETURN count(p) AS c")[0]["c"] == len(paths3)
    stale = runner.read("MATCH (n:Asset) WHERE n.gnn_generation < $g RETURN count(n) AS c", {"g": third.generation})[0]["c"]
    assert stale == 0


def test_remediation_procedures_on_scored_graph(runner, loaded):
    mapping, data = loaded
    stamp, counts, edge_prob, _, paths = _run(runner, mapping, data, 4, "m-4")
    writeback.commit_run(runner, mapping, stamp, counts, {})
    chokes = runner.read("CALL gnn.chokePoints(3, 8) YIELD relationship, reduction, crownJewels "
                         "RETURN elementId(relationship) AS rel, reduction, crownJewels")
    assert chokes and chokes[0]["reduction"] >= chokes[-1]["reduction"] > 0
    before_after = runner.read("CALL gnn.whatIf([$rel], 8) YIELD id, before, after, delta RETURN id, before, after, delta",
                               {"rel": chokes[0]["rel"]})
    changed = {row["id"]: row for row in before_after if row["delta"] < 0}
    assert set(chokes[0]["crownJewels"]) == set(changed)
    assert sum(-row["delta"] for row in changed.values()) == pytest.approx(chokes[0]["reduction"])
    top_path = max(paths, key=lambda p: p.score)
    hops = runner.read("CALL gnn.explain($s, $t, 8) YIELD hop, fromId, toId, type, probability, cumulative "
                       "RETURN hop, fromId, toId, type, probability, cumulative ORDER BY hop",
                       {"s": top_path.node_ids[0], "t": top_path.node_ids[-1]})
    assert [h["fromId"] for h in hops] + [hops[-1]["toId"]] == list(top_path.node_ids)
    assert hops[-1]["cumulative"] == pytest.approx(top_path.score)
