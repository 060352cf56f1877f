"""Baselines the GNNs are compared with, on the same graphs and through the same path code.

Each baseline produces an exploit probability per attack edge (and, where it has its own notion, a node risk);
`gnn_neo4j.evaluation.evaluate_edge_probabilities` (re-exported here) turns any such output into every metric, with
paths ranked by `gnn_neo4j.paths.AttackGraph`, so the numbers are comparable.

- **hop-count** (BloodHound-style): every edge has the same probability (0.5), so path probability ranks paths by
  hop count; node risk ``1 / (1 + hops)`` from the nearest entry point (0 when unreachable).
- **CVSS-Dijkstra**: an edge's probability comes from its *target's* vulnerability observables::

      p = 0.05 + 0.9 * (0.5 * max_cvss / 10 + 0.5 * epss_max)    target with vulnerability data
      p = 0.05 + 0.9 * max_cvss / 10                              only CVSS known
      p = 0.5                                                     target without vulnerability data
                                                                  (identities, groups, roles, secrets)

  the shape of a CVSS/EPSS-weighted shortest-path tool; node risk = probability of the most probable path from an
  entry point (Dijkstra on ``-log p``).
- **edge-features-only**: a scikit-learn ``HistGradientBoostingClassifier`` on the edge's own features
  (relationship type, mapped edge properties) and its two endpoints' raw mapped properties - no degrees, no
  message passing - trained on the same labelled edges as the GNNs; node risk by the same Monte Carlo simulation the
  GNNs use.

The GDS GraphSAGE + logistic-regression baseline runs in the database (export code) and plugs in through
`evaluate_edge_probabilities`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra
from sklearn.ensemble import HistGradientBoostingClassifier

from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.evaluation import evaluate_edge_probabilities
from gnn_neo4j.features import FeatureSpec
from gnn_neo4j.mapping import Mapping
from gnn_neo4j.paths import AttackGraph
from gnn_neo4j.training import edge_targets

log = logging.getLogger(__name__)

__all__ = [
    "BaselineScores", "EdgeFeatureClassifier", "cvss_dijkstra", "evaluate_edge_probabilities", "hop_count",
    "run_baselines", "HOP_COUNT_PROBABILITY",
]

HOP_COUNT_PROBABILITY = 0.5
CVSS_FLOOR = 0.05
CVSS_SPAN = 0.9
NO_VULNERABILITY_PROBABILITY = 0.5


@dataclass
class BaselineScores:
    """What a baseline produces for one graph.

    Attributes:
        edge_prob: exploit probability per edge.
        node_risk: its own node risk, or ``None`` (evaluation then simulates over ``edge_prob``).
        latency_ms: time to score the graph (edge probabilities and own node risk).
        training_seconds: fitting time (0 for rule-based baselines).
    """

    edge_prob: np.ndarray
    node_risk: np.ndarray | None
    latency_ms: float
    training_seconds: float = 0.0


def hop_counts(data: AttackGraphData) -> np.ndarray:
    """Fewest hops from any entry point to each node (``inf`` when unreachable)."""
    if not len(data.entry_points):
        return np.full(data.num_nodes, np.inf)
    matrix = csr_array((np.ones(data.num_edges), (data.edge_src, data.edge_dst)),
                       shape=(data.num_nodes, data.num_nodes))
    return np.asarray(dijkstra(matrix, directed=True, unweighted=True, indices=data.entry_points,
                                    min_only=True), dtype=np.float64)


def hop_count(data: AttackGraphData) -> BaselineScores:
    """BloodHound-style baseline: constant edge probability, node risk ``1 / (1 + hops)``.

    Args:
        data: the graph.

    Returns:
        Edge probabilities (all `HOP_COUNT_PROBABILITY`) and node risk.
    """
    began = time.perf_counter()
    edge_prob = np.full(data.num_edges, HOP_COUNT_PROBABILITY)
    hops = hop_counts(data)
    risk = np.where(np.isinf(hops), 0.0, 1.0 / (1.0 + np.where(np.isinf(hops), 0.0, hops)))
    return BaselineScores(edge_prob, risk, (time.perf_counter() - began) * 1000.0)


def cvss_edge_probabilities(data: AttackGraphData, cvss_property: str = "max_cvss",
                            epss_property: str = "epss_max") -> np.ndarray:
    """Edge probabilities from the target's CVSS / EPSS observables (formula in the module docstring).

    Args:
        data: the graph.
        cvss_property: node property with the highest CVSS base score (0-10).
        epss_property: node property with the highest EPSS probability (0-1).

    Returns:
        float64 array of shape (E,).
    """
    nan = np.full(data.num_nodes, np.nan)
    cvss = np.asarray(data.node_props.get(cvss_property, nan), dtype=np.float64)[data.edge_dst]
    epss = np.asarray(data.node_props.get(epss_property, nan), dtype=np.float64)[data.edge_dst]
    severity = np.clip(cvss / 10.0, 0.0, 1.0)
    likelihood = np.clip(epss, 0.0, 1.0)
    prob = np.full(data.num_edges, NO_VULNERABILITY_PROBABILITY)
    both = ~np.isnan(severity) & ~np.isnan(likelihood)
    only_cvss = ~np.isnan(severity) & np.isnan(likelihood)
    prob[both] = CVSS_FLOOR + CVSS_SPAN * (0.5 * severity[both] + 0.5 * likelihood[both])
    prob[only_cvss] = CVSS_FLOOR + CVSS_SPAN * severity[only_cvss]
    return prob


def cvss_dijkstra(data: AttackGraphData, max_hops: int = 8, cvss_property: str = "max_cvss",
                  epss_property: str = "epss_max") -> BaselineScores:
    """CVSS-weighted Dijkstra baseline: CVSS/EPSS edge probabilities, node risk = best path probability.

    Args:
        data: the graph.
        max_hops: hop bound of the node-risk path search.
        cvss_property: node property with the highest CVSS score.
        epss_property: node property with the highest EPSS probability.

    Returns:
        Edge probabilities and node risk.
    """
    began = time.perf_counter()
    edge_prob = cvss_edge_probabilities(data, cvss_property, epss_property)
    graph = AttackGraph(data.num_nodes, data.edge_src, data.edge_dst, edge_prob)
    risk = graph.best_path_probabilities(data.entry_points, max_hops)
    return BaselineScores(edge_prob, risk, (time.perf_counter() - began) * 1000.0)


class EdgeFeatureClassifier:
    """Edge-features-only classifier: gradient boosting on an edge's own and its endpoints' raw features.

    No graph propagation: the features are the relationship type and mapped edge properties, and the mapped
    properties of the source and the target node (one-hot / standardised / missing indicators as in
    `gnn_neo4j.features`, without degree or marker columns).

    Args:
        seed: random state of the classifier.
        max_iter: boosting iterations.
    """

    def __init__(self, seed: int = 0, max_iter: int = 300) -> None:
        self.seed = seed
        self.max_iter = max_iter
        self.spec: FeatureSpec | None = None
        self.classifier: HistGradientBoostingClassifier | None = None
        self.training_seconds = 0.0

    def _features(self, data: AttackGraphData) -> np.ndarray:
        if self.spec is None:
            raise RuntimeError("EdgeFeatureClassifier used before fit")
        x = self.spec.encode_nodes(data)
        edge_attr = self.spec.encode_edges(data)
        return np.concatenate([edge_attr, x[data.edge_src], x[data.edge_dst]], axis=1)

    def fit(self, train: AttackGraphData | Sequence[AttackGraphData],
            mapping: Mapping | None = None) -> "EdgeFeatureClassifier":
        """Fit on the observed 0/1 labels (feedback over outcome) of the training graph(s).

        Raises:
            ValueError: ``"no training labels: ..."`` when there is no observed label of both classes.
        """
        began = time.perf_counter()
        graphs = [train] if isinstance(train, AttackGraphData) else list(train)
        self.spec = FeatureSpec.fit(graphs, mapping, degree=False, markers=False)
        features, labels = [], []
        for graph in graphs:
            targets = edge_targets(graph)
            features.append(self._features(graph)[targets.index])
            labels.append(targets.target)
        y = np.concatenate(labels)
        if len(np.unique(y)) < 2:
            raise ValueError("no training labels: the edge-features-only baseline needs observed outcomes or "
                             "feedback of both classes")
        self.classifier = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=0.05,
                                                         random_state=self.seed)
        self.classifier.fit(np.concatenate(features), y.astype(np.int64))
        self.training_seconds = time.perf_counter() - began
        return self

    def predict(self, data: AttackGraphData) -> np.ndarray:
        """Exploit probability per edge of ``data``.

        Raises:
            RuntimeError: called before `fit`.
        """
        if self.classifier is None:
            raise RuntimeError("EdgeFeatureClassifier.predict called before fit")
        return self.classifier.predict_proba(self._features(data))[:, 1].astype(np.float64)

    def score(self, data: AttackGraphData) -> BaselineScores:
        """Edge probabilities for ``data``; node risk is left to the evaluation's Monte Carlo simulation."""
        began = time.perf_counter()
        edge_prob = self.predict(data)
        return BaselineScores(edge_prob, None, (time.perf_counter() - began) * 1000.0, self.training_seconds)


def run_baselines(train: AttackGraphData | Sequence[AttackGraphData], test: AttackGraphData, *, max_hops: int = 8,
                  seed: int = 0, mapping: Mapping | None = None) -> dict[str, BaselineScores]:
    """Run every in-process baseline on ``test`` (the classifier trained on ``train``).

    Args:
        train: training graph(s) for the edge-features-only classifier.
        test: the graph to score.
        max_hops: hop bound of the CVSS-Dijkstra node risk.
        seed: classifier seed.
        mapping: mapping for the classifier's feature spec.

    Returns:
        ``{"hop_count": ..., "cvss_dijkstra": ..., "edge_features_only": ...}``.
    """
    classifier = EdgeFeatureClassifier(seed=seed).fit(train, mapping)
    return {
        "hop_count": hop_count(test),
        "cvss_dijkstra": cvss_dijkstra(test, max_hops),
        "edge_features_only": classifier.score(test),
    }
