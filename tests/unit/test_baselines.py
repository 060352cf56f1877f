"""Baselines: hand-checked hop-count and CVSS-Dijkstra scores, the edge-features-only classifier."""

from __future__ import annotations

import numpy as np
import pytest

from gnn_neo4j.baselines import (
    EdgeFeatureClassifier,
    cvss_dijkstra,
    cvss_edge_probabilities,
    evaluate_edge_probabilities,
    hop_count,
    run_baselines,
)
from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.evaluation import evaluate_edge_probabilities as evaluation_entry_point
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.metrics import auc_roc
from gnn_neo4j.synthetic import SyntheticDataGenerator

MAPPING = load_mapping("canonical")


def _chain() -> AttackGraphData:
    """a (entry) -> b -> c -> e (crown jewel); d -> e with d unreachable."""
    return AttackGraphData(
        node_ids=["a", "b", "c", "d", "e"], node_kind=["Host"] * 5,
        node_props={"max_cvss": np.array([np.nan, 9.0, 5.0, np.nan, np.nan]),
                    "epss_max": np.array([np.nan, 0.5, np.nan, np.nan, np.nan])},
        edge_src=[0, 1, 2, 3], edge_dst=[1, 2, 4, 4], edge_type=["CAN_REACH"] * 4, edge_props={},
        edge_label=[np.nan] * 4, edge_feedback=[np.nan] * 4,
        entry_mask=[True, False, False, False, False], crown_mask=[False, False, False, False, True],
        mapping="canonical", prop_types={"max_cvss": "numeric", "epss_max": "numeric"})


@pytest.fixture(scope="module")
def graphs():
    return [from_property_graph(SyntheticDataGenerator(seed, assets=200).generate_all().graph, MAPPING)
            for seed in (31, 32)]


def test_hop_count_by_hand():
    scores = hop_count(_chain())
    np.testing.assert_array_equal(scores.edge_prob, [0.5] * 4)
    np.testing.assert_allclose(scores.node_risk, [1.0, 1 / 2, 1 / 3, 0.0, 1 / 4])
    assert scores.latency_ms >= 0 and scores.training_seconds == 0


def test_cvss_dijkstra_by_hand():
    data = _chain()
    # into b: 0.05 + 0.9 * (0.5 * 0.9 + 0.5 * 0.5); into c: CVSS only; into e: no vulnerability data
    np.testing.assert_allclose(cvss_edge_probabilities(data), [0.68, 0.5, 0.5, 0.5])
    scores = cvss_dijkstra(data)
    np.testing.assert_allclose(scores.node_risk, [1.0, 0.68, 0.34, 0.0, 0.17])
    assert cvss_dijkstra(data, max_hops=2).node_risk[4] == 0.0


def test_edge_features_only_classifier_learns_without_the_graph(graphs):
    classifier = EdgeFeatureClassifier(seed=0, max_iter=50).fit(graphs[0], MAPPING)
    assert not classifier.spec.degree and not classifier.spec.markers
    prob = classifier.predict(graphs[1])
    assert prob.shape == (graphs[1].num_edges,) and np.all((prob >= 0) & (prob <= 1))
    known = ~np.isnan(graphs[1].edge_label)
    assert auc_roc(graphs[1].edge_label[known], prob[known]) > 0.6
    scores = classifier.score(graphs[1])
    assert scores.node_risk is None and scores.training_seconds > 0
    np.testing.assert_array_equal(classifier.predict(graphs[1]),
                                  EdgeFeatureClassifier(seed=0, max_iter=50).fit(graphs[0], MAPPING).predict(graphs[1]))


def test_edge_features_only_classifier_refuses_without_labels(graphs):
    data = graphs[0]
    bare = AttackGraphData(**{**{k: getattr(data, k) for k in (
        "node_ids", "node_kind", "node_props", "edge_src", "edge_dst", "edge_type", "edge_props", "edge_feedback",
        "entry_mask", "crown_mask", "mapping", "prop_types", "edge_prop_types", "categories")},
        "edge_label": np.full(data.num_edges, np.nan)})
    with pytest.raises(ValueError, match="^no training labels"):
        EdgeFeatureClassifier().fit(bare, MAPPING)
    with pytest.raises(RuntimeError, match="before fit"):
        EdgeFeatureClassifier().predict(data)


def test_run_baselines_scores_every_baseline(graphs):
    scores = run_baselines(graphs[0], graphs[1], seed=0, mapping=MAPPING)
    assert set(scores) == {"hop_count", "cvss_dijkstra", "edge_features_only"}
    for result in scores.values():
        assert result.edge_prob.shape == (graphs[1].num_edges,)
    assert evaluate_edge_probabilities is evaluation_entry_point
