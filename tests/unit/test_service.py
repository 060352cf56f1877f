"""The seed's Python API end to end on tiny graphs (real Optuna on SQLite, real training)."""

from __future__ import annotations

import pytest

from gnn_neo4j.service import OptimizedGNNService
from gnn_neo4j.settings import load_settings
from gnn_neo4j.synthetic import generate_splits


@pytest.fixture(scope="module")
def splits():
    return generate_splits((11, 12, 13), size="small")


def test_seed_workflow(tmp_path, splits):
    service = OptimizedGNNService(load_settings(env={}, data_dir=tmp_path))
    train, val, test = service.prepare_training_data(splits)
    results = service.optimize_hyperparameters(train, val, model_types=["graphsage"], n_trials=2, max_epochs=2)
    assert results["graphsage"]["n_trials"] == 2 and results["graphsage"]["best_params"]
    service.train_optimized_model(train, val, test, model_type="graphsage", use_optimized_params=True, epochs=5)
    assert service.models["graphsage"].config.hidden_dim == results["graphsage"]["best_params"]["hidden_dim"]
    comparison = service.compare_models()
    assert comparison["best_model"] == "graphsage"
    assert {"graphsage", "hop_count", "cvss_dijkstra", "edge_features_only"} <= set(comparison["results"])
    assert 0.0 <= comparison["results"]["graphsage"]["ndcg_at_k"] <= 1.0
    recommendation = service.get_model_recommendations()
    assert recommendation["recommended_model"] == "graphsage" and recommendation["reasons"]
    saved = service.save_models(tmp_path / "models")
    assert len(saved) == 1
    reloaded = OptimizedGNNService(load_settings(env={}, data_dir=tmp_path))
    reloaded.prepare_training_data(splits)
    assert reloaded.load_models(tmp_path / "models") == ["graphsage"]
    entry, jewel = str(test.node_ids[test.entry_points[0]]), str(test.node_ids[test.crown_jewels[0]])
    original = service.get_attack_paths(entry, jewel, k=3)
    assert reloaded.get_attack_paths(entry, jewel, k=3) == original
    assert all(p["node_ids"][0] == entry and p["node_ids"][-1] == jewel for p in original)
    assert [p["rank"] for p in original] == list(range(1, len(original) + 1))
    with pytest.raises(ValueError, match="unknown asset"):
        service.get_attack_paths("nope", jewel)
