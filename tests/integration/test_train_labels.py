"""`train` on the current graph: label kinds reported, prior-only graphs, and the refusal without labels or priors."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from gnn_neo4j.cli import main

pytestmark = pytest.mark.neo4j


def test_train_on_synthetic_graph_in_neo4j_reports_outcomes_and_baselines(runner, cli_env):
    assert CliRunner().invoke(main, ["generate", "--size", "small", "--seed", "12", "--load"], env=cli_env).exit_code == 0
    result = CliRunner().invoke(main, ["train", "--epochs", "10", "--patience", "3", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    table = json.loads(result.output.strip().splitlines()[-1])
    assert set(table) == {"graphsage", "hop_count", "cvss_dijkstra", "edge_features_only", "gds_graphsage_lr"}
    assert table["graphsage"]["label_counts"]["outcome"] > 0
    assert all(0.0 <= row["auc_roc"] <= 1.0 for row in table.values())
    assert len({row["labelled_edges"] for row in table.values()}) == 1  # one held-out edge set for everyone


def test_bloodhound_graph_trains_on_priors_and_says_so(runner, cli_env, shared_data, tmp_path):
    sample = shared_data / "bloodhound-ad-sample" / "ad_sampledata.zip"
    assert CliRunner().invoke(main, ["import", "bloodhound", str(sample)], env=cli_env).exit_code == 0
    result = CliRunner().invoke(main, ["--config", str(_config(tmp_path, "bloodhound")), "train", "--epochs", "3",
                                       "--patience", "2", "--export-method", "cypher"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "'outcome': 0, 'feedback': 0, 'prior':" in result.output
    assert "trained on the mapping's priors" in result.output

    no_priors = tmp_path / "no-priors.yaml"
    no_priors.write_text(yaml.safe_dump({
        "node_labels": {"User": {}, "Group": {}, "Computer": {}},
        "attack_relationships": {"MemberOf": {}, "AdminTo": {}, "HasSession": {}},
        "entry_points": {"property": "entry_point"}, "crown_jewels": {"property": "critical"},
    }))
    refused = CliRunner().invoke(main, ["train", "--mapping", str(no_priors), "--export-method", "cypher"], env=cli_env)
    assert refused.exit_code == 1
    assert "no training labels" in refused.output


def _config(tmp_path, mapping):
    path = tmp_path / "config.toml"
    path.write_text(f'mapping = "{mapping}"\n')
    return path
