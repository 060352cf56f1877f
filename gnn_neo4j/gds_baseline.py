"""Baseline: GDS's own GraphSAGE embeddings + a logistic-regression edge head (scikit-learn).

The node features are the same encoding the GNNs use (`FeatureSpec` fitted on the training graphs); GDS
trains unsupervised GraphSAGE on the training graph and embeds every graph with that one model; the edge head
sees ``[emb(source), emb(target), emb(source) * emb(target), edge features]`` of the labelled training edges.
All GDS calls go through `gnn_neo4j.export`.
"""

from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np

from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.db import GraphRunner
from gnn_neo4j.export import gds_graphsage_embeddings
from gnn_neo4j.features import FeatureSpec
from gnn_neo4j.mapping import Mapping

log = logging.getLogger(__name__)


def _edge_matrix(embedding: np.ndarray, edge_features: np.ndarray, data: AttackGraphData) -> np.ndarray:
    src, dst = embedding[data.edge_src], embedding[data.edge_dst]
    return np.hstack([src, dst, src * dst, edge_features])


def gds_graphsage_lr(
    runner: GraphRunner,
    train: Sequence[AttackGraphData],
    test: AttackGraphData,
    mapping: Mapping | None = None,
    *,
    dimension: int = 32,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """Edge exploit probabilities of ``test`` from GDS GraphSAGE embeddings + logistic regression.

    Args:
        runner: database seam of a server with GDS.
        train: graphs with labelled edges (outcomes or feedback) to fit the head on.
        test: graph to score.
        mapping: mapping for the feature encoding's declared categories.
    Returns:
        ``(edge_prob, training_seconds)``.
    Raises:
        ValueError: no labelled training edges of both classes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    began = time.perf_counter()
    spec = FeatureSpec.fit(list(train), mapping)
    graphs = [*train, test]
    inputs = [(spec.encode_nodes(g), g.edge_src, g.edge_dst) for g in graphs]
    embeddings = gds_graphsage_embeddings(runner, inputs, dimension=dimension, seed=seed)
    rows, labels = [], []
    for graph, embedding in zip(train, embeddings[:-1]):
        label = np.where(np.isnan(graph.edge_feedback), graph.edge_label, graph.edge_feedback)
        known = ~np.isnan(label)
        rows.append(_edge_matrix(embedding, spec.encode_edges(graph), graph)[known])
        labels.append(label[known])
    x_train, y_train = np.vstack(rows), np.concatenate(labels)
    if len(np.unique(y_train)) < 2:
        raise ValueError("GDS GraphSAGE baseline needs labelled training edges of both classes")
    scaler = StandardScaler().fit(x_train)
    head = LogisticRegression(max_iter=1000, random_state=seed).fit(scaler.transform(x_train), y_train)
    seconds = time.perf_counter() - began
    x_test = _edge_matrix(embeddings[-1], spec.encode_edges(test), test)
    return head.predict_proba(scaler.transform(x_test))[:, 1].astype(np.float64), seconds
