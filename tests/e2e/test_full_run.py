"""A whole run on a small seeded graph: generate + load, train, score, write back, query the procedures, rescore."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gnn_neo4j.cli import main

pytestmark = pytest.mark.neo4j


def _invoke(args, env):
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_generate_run_query_and_rescore(runner, cli_env):
    _invoke(["generate", "--size", "small", "--seed", "8", "--load"], cli_env)
    first = json.loads(_invoke(["run", "--tune-trials", "2", "--tune-max-epochs", "3", "--epochs", "15",
                                "--patience", "5", "--json"], cli_env).splitlines()[-1])
    assert first["metrics"]["tuning"]["n_trials"] == 2
    assert first["counts"]["written_nodes"] == first["counts"]["nodes"] > 0
    assert first["metrics"]["label_counts"]["outcome"] > 0
    assert 0.0 <= first["metrics"]["test_auc_roc"] <= 1.0

    status = runner.read("CALL gnn.status() YIELD generation, modelVersion RETURN *")[0]
    assert status == {"generation": first["generation"], "modelVersion": first["model_version"]}
    top = runner.read("CALL gnn.topRisks(3) YIELD id, risk RETURN id, risk")
    stored = runner.read("MATCH (a:Asset) RETURN a.id AS id, a.gnn_risk AS risk ORDER BY risk DESC, id LIMIT 3")
    assert top == stored
    paths = runner.read("CALL gnn.rankedPaths(5) YIELD source, target, score RETURN source.internet_exposed AS entry, "
                        "target.critical AS jewel, score")
    assert paths and all(p["entry"] and p["jewel"] and 0 < p["score"] <= 1 for p in paths)
    ranked = json.loads(_invoke(["paths", "--limit", "3", "--json"], cli_env))
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True) and len(ranked) == 3
    best = ranked[0]
    live = json.loads(_invoke(["paths", "--source", best["node_ids"][0], "--target", best["node_ids"][-1],
                               "--k", "1", "--json"], cli_env))
    assert live[0]["score"] == pytest.approx(best["score"]) and live[0]["hops"] == best["hops"]
    summary = json.loads(_invoke(["report", "--limit", "3", "--json"], cli_env))
    assert summary["status"]["generation"] == first["generation"]
    assert [r["id"] for r in summary["top_risks"]] == [t["id"] for t in top]
    coverage = {row["type"]: row for row in summary["label_coverage"]}
    assert sum(row["outcomes"] for row in coverage.values()) > 0

    assert first["model_version"].startswith("attack_path_scorer/") and first["metrics"]["gate_passed"] is True
    listed = json.loads(_invoke(["models", "list", "--json"], cli_env))
    assert any("champion" in v["aliases"] for v in listed)

    # rescore with the champion from the registry: a new generation replaces the old one, old paths are cleaned up
    second = json.loads(_invoke(["score", "--json"], cli_env).splitlines()[-1])
    assert second["generation"] == first["generation"] + 1
    assert second["model_version"] == first["model_version"]
    generations = runner.read("MATCH ()-[p:ATTACK_PATH]->() RETURN collect(DISTINCT p.generation) AS g")[0]["g"]
    assert generations == [second["generation"]]
    # same model, same graph: same scores
    assert runner.read("CALL gnn.topRisks(3) YIELD id, risk RETURN id, risk") == top


def test_daemon_runs_scheduled_cycles(runner, cli_env):
    _invoke(["generate", "--size", "small", "--seed", "9", "--load"], cli_env)
    output = _invoke(["daemon", "--interval", "0.01", "--max-runs", "2", "--epochs", "5", "--patience", "2",
                      "--export-method", "cypher"], cli_env)
    assert "after 2 successful run(s)" in output
    runs = runner.read("MATCH (r:GnnRun) RETURN r.status AS s ORDER BY r.generation")
    assert [r["s"] for r in runs] == ["complete", "complete"]
