"""Evaluation against ground truth: hand-checked path metrics, perfect predictions, whole-model evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.evaluation import (
    PathTruth,
    compare_on_test,
    evaluate_edge_probabilities,
    evaluate_model_on_environment,
    true_edge_probabilities,
)
from gnn_neo4j.ground_truth import build_ground_truth
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.synthetic import SyntheticDataGenerator
from gnn_neo4j.training import TrainConfig, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MAPPING = load_mapping("canonical")


@pytest.fixture(scope="module")
def envs():
    return [SyntheticDataGenerator(seed, assets=200).generate_all() for seed in (41, 42)]


def _diamond():
    """s (entry) -> a -> t and s -> b -> t (t a crown jewel); true probabilities 0.9, 0.9, 0.5, 0.5."""
    node_ids = np.array(["s", "a", "b", "t"], dtype=object)
    src, dst = np.array([0, 1, 0, 2]), np.array([1, 3, 2, 3])
    true_prob = np.array([0.9, 0.9, 0.5, 0.5])
    truth = build_ground_truth(
        node_ids=node_ids, node_kinds=np.array(["Host"] * 4, dtype=object), edge_src=src, edge_dst=dst,
        edge_rel=np.zeros(4, dtype=np.int16), edge_exploit_prob=true_prob, edge_outcome=np.array([1, 1, 0, 1]),
        edge_labelled=np.array([True, False, True, False]), entry_points=np.array([0]),
        crown_jewels=np.array([3]), node_hardening=np.zeros(4), n_trials=4096, top_k=2, max_hops=4)
    data = AttackGraphData(
        node_ids=node_ids, node_kind=["Host"] * 4, node_props={}, edge_src=src, edge_dst=dst,
        edge_type=["CAN_REACH"] * 4, edge_props={}, edge_label=[1.0, np.nan, 0.0, np.nan],
        edge_feedback=[np.nan] * 4, entry_mask=[True, False, False, False], crown_mask=[False, False, False, True],
        mapping="canonical")
    return data, truth


def test_ndcg_uses_the_true_probability_of_predicted_paths():
    data, truth = _diamond()
    swapped = np.array([0.5, 0.5, 0.9, 0.9])  # ranks s-b-t above s-a-t
    at_one = evaluate_edge_probabilities("swapped", data, truth, swapped, k=1, max_hops=4)
    assert at_one["ndcg_at_k"] == pytest.approx(0.25 / 0.81)
    assert at_one["top_k_precision"] == 0.0 and at_one["path_detection_accuracy"] == 0.0
    at_two = evaluate_edge_probabilities("swapped", data, truth, swapped, k=2, max_hops=4)
    dcg = 0.25 + 0.81 / math.log2(3)
    idcg = 0.81 + 0.25 / math.log2(3)
    assert at_two["ndcg_at_k"] == pytest.approx(dcg / idcg)
    assert at_two["top_k_precision"] == 1.0 and at_two["path_detection_accuracy"] == 1.0
    # best path 0.81 >= 0.5 for the truth; the swapped model's best path is also 0.81
    assert at_two["crown_jewels_reachable_true"] == 1 and at_two["crown_jewels_reachable"] == 1
    low = evaluate_edge_probabilities("low", data, truth, np.full(4, 0.3), k=2, max_hops=4)
    assert low["crown_jewels_reachable"] == 0


def test_classification_and_truth_metrics_by_hand():
    data, truth = _diamond()
    pred = np.array([0.8, 0.7, 0.6, 0.2])
    result = evaluate_edge_probabilities("m", data, truth, pred, node_risk=np.array([1.0, 0.7, 0.6, 0.5]),
                                         k=2, max_hops=4)
    # held-out labelled edges: edge 0 (label 1, p 0.8) and edge 2 (label 0, p 0.6 -> false positive)
    assert result["labelled_edges"] == 2
    assert result["accuracy"] == 0.5 and result["precision"] == 0.5 and result["recall"] == 1.0
    assert result["auc_roc"] == 1.0
    assert result["brier_true"] == pytest.approx(np.mean((pred - np.array([0.9, 0.9, 0.5, 0.5])) ** 2))
    # outcomes of every edge: [1, 1, 0, 1]
    assert result["auc_roc_outcomes"] == pytest.approx(2 / 3)
    assert result["node_risk_method"] == "own"
    assert -1.0 <= result["risk_score_correlation"] <= 1.0


def test_perfect_predictions_score_perfectly(envs):
    env = envs[0]
    data = from_property_graph(env.graph, MAPPING)
    truth = PathTruth(data, env.ground_truth, k=5, max_hops=6)
    result = evaluate_edge_probabilities("oracle", data, env.ground_truth, truth.edge_prob, k=5, max_hops=6,
                                         truth=truth, n_trials=2048, seed=123)
    assert result["crown_jewels_with_paths"] > 0
    assert result["ndcg_at_k"] == pytest.approx(1.0)
    assert result["path_detection_accuracy"] == 1.0
    assert result["top_k_precision"] == pytest.approx(
        np.mean([len(p) / 5 for p in truth.paths.values() if p]))
    assert result["brier_true"] == 0.0 and result["edge_prob_spearman"] == pytest.approx(1.0)
    assert result["crown_jewels_reachable"] == result["crown_jewels_reachable_true"]
    assert result["risk_score_correlation"] > 0.95  # two independent Monte Carlo estimates of the same thing
    assert result["node_risk_method"] == "monte_carlo"
    np.testing.assert_array_equal(true_edge_probabilities(data, env.ground_truth), truth.edge_prob)


def test_without_ground_truth_only_classification_is_reported(envs):
    data = from_property_graph(envs[0].graph, MAPPING)
    result = evaluate_edge_probabilities("m", data, None, np.full(data.num_edges, 0.5))
    assert "auc_roc" in result and "ndcg_at_k" not in result and "risk_score_correlation" not in result
    with pytest.raises(ValueError, match="shape"):
        evaluate_edge_probabilities("m", data, None, np.full(3, 0.5))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate_edge_probabilities("m", data, None, np.full(data.num_edges, 1.5))


def test_model_evaluation_and_comparison_with_baselines(envs):
    train = from_property_graph(envs[0].graph, MAPPING)
    test = from_property_graph(envs[1].graph, MAPPING)
    config = TrainConfig(hidden_dim=16, num_layers=1, epochs=4, patience=2, risk_trials=64)
    result = fit(train, None, config, mapping=MAPPING)
    single = evaluate_model_on_environment(result, test, envs[1].ground_truth, k=5, max_hops=6, n_trials=256,
                                           latency_repeats=2)
    for key in ("ndcg_at_k", "risk_score_correlation", "risk_score_correlation_head", "auc_roc", "auc_pr", "f1",
                "top_k_precision", "path_detection_accuracy", "crown_jewels_reachable",
                "crown_jewels_reachable_true", "latency_ms", "training_seconds", "epochs_to_convergence"):
        assert key in single, key
    assert single["latency_ms"] > 0 and single["epochs_to_convergence"] == result.best_epoch
    assert single["model"] == "graphsage"

    table = compare_on_test({"graphsage": result}, train, test, envs[1].ground_truth, k=5, max_hops=6,
                            n_trials=256, extra={"constant": (np.full(test.num_edges, 0.4), None)})
    assert list(table) == ["graphsage", "hop_count", "cvss_dijkstra", "edge_features_only", "constant"]
    assert table["graphsage"]["ndcg_at_k"] == pytest.approx(single["ndcg_at_k"])
    assert table["hop_count"]["node_risk_method"] == "own"
    assert table["edge_features_only"]["node_risk_method"] == "monte_carlo"
    # a constant probability ranks paths by hop count, exactly like the hop-count baseline
    assert table["constant"]["ndcg_at_k"] == pytest.approx(table["hop_count"]["ndcg_at_k"])
