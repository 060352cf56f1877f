"""Evaluation of edge-probability models against a synthetic environment's hidden ground truth.

Every model (the GNNs and every baseline) is judged the same way from its predicted edge exploit probabilities
(`evaluate_edge_probabilities`):

- **classification** on the held-out labelled edges of the evaluated graph (observed outcomes / feedback):
  ``accuracy``, ``precision``, ``recall``, ``f1``, ``auc_roc``, ``auc_pr`` at threshold 0.5; and against the hidden
  truth on *every* attack edge: ``brier_true`` (mean squared error to the true exploit probability),
  ``edge_prob_spearman`` (rank correlation with it) and ``auc_roc_outcomes`` (AUC against the sampled Bernoulli
  outcome of every edge, published or not);
- **node risk**: ``risk_score_correlation`` = Spearman(predicted node risk, true compromise probability) over all
  attack-graph nodes; the predicted risk is the model's own where it has one (hop-count, CVSS-Dijkstra), otherwise
  the Monte Carlo attacker simulation over its predicted edge probabilities (``node_risk_method`` says which);
- **paths**: the top-K paths per crown jewel from any entry point (`gnn_neo4j.paths.AttackGraph`, Yen on
  ``-log p``, at most ``max_hops``) under the predicted probabilities vs under the true probabilities:
  ``top_k_precision`` (mean over crown jewels of |pred ∩ true| / K), ``path_detection_accuracy``
  (`gnn_neo4j.metrics.path_detection_accuracy`) and ``ndcg_at_k`` (mean over crown jewels; a predicted path's
  relevance is its *true* probability, the ideal ranking is the true top-K);
- ``crown_jewels_reachable`` (predicted) / ``crown_jewels_reachable_true``: crown jewels whose most probable path
  has probability >= ``reach_threshold``.

Crown jewels without any true path within ``max_hops`` are left out of the per-jewel means.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping as AbcMapping, Sequence
from typing import Any

import numpy as np

from gnn_neo4j import metrics as metric_fns
from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.ground_truth import GroundTruth
from gnn_neo4j.mapping import Mapping
from gnn_neo4j.paths import AttackGraph
from gnn_neo4j.training import TrainResult, score_graph, monte_carlo_risk

log = logging.getLogger(__name__)

CLASSIFICATION_KEYS = ("accuracy", "precision", "recall", "f1", "auc_roc", "auc_pr")


def true_edge_probabilities(data: AttackGraphData, ground_truth: GroundTruth) -> np.ndarray:
    """The hidden true exploit probability of every edge of ``data`` (matched by ``(src id, type, dst id)``).

    Raises:
        ValueError: an edge of ``data`` is not an attack edge of the ground truth.
    """
    prob = ground_truth.exploit_probs(data.node_ids[data.edge_src], data.edge_type, data.node_ids[data.edge_dst])
    missing = np.isnan(prob)
    if missing.any():
        raise ValueError(f"{int(missing.sum())} edges of the graph are not in the ground truth")
    return prob


def true_node_risk(data: AttackGraphData, ground_truth: GroundTruth) -> np.ndarray:
    """The true compromise probability of every node of ``data`` (matched by id).

    Raises:
        ValueError: the ground truth was not simulated, or a node is not in it.
    """
    risk = ground_truth.compromise_probs(data.node_ids)
    if np.isnan(risk).any():
        raise ValueError("ground truth has no compromise probability for some nodes (not simulated, or other graph)")
    return risk


class PathTruth:
    """The true side of the path metrics of one graph, computed once and shared by every evaluated model.

    Args:
        data: the evaluated graph.
        ground_truth: its hidden truth.
        k: paths per crown jewel.
        max_hops: hop bound.
    """

    def __init__(self, data: AttackGraphData, ground_truth: GroundTruth, k: int = 10, max_hops: int = 8) -> None:
        self.k = k
        self.max_hops = max_hops
        self.edge_prob = true_edge_probabilities(data, ground_truth)
        self.node_risk = true_node_risk(data, ground_truth)
        self.graph = AttackGraph(data.num_nodes, data.edge_src, data.edge_dst, self.edge_prob)
        self.entry_points = data.entry_points
        self.crown_jewels = data.crown_jewels
        self.paths = self.graph.top_paths_to_targets(self.entry_points, self.crown_jewels, k, max_hops)
        best = self.graph.best_path_probabilities(self.entry_points, max_hops)
        self.best_path = {int(t): float(best[t]) for t in self.crown_jewels}

    def path_probability(self, nodes: Sequence[int]) -> float:
        """True probability of a node sequence (the most probable true edge between each pair)."""
        return self.graph.path_from_nodes(nodes).probability


def evaluate_edge_probabilities(
    name: str,
    data: AttackGraphData,
    ground_truth: GroundTruth | None,
    edge_prob: np.ndarray,
    node_risk: np.ndarray | None = None,
    k: int = 10,
    max_hops: int = 8,
    *,
    threshold: float = 0.5,
    reach_threshold: float = 0.5,
    n_trials: int = 1024,
    seed: int = 0,
    truth: PathTruth | None = None,
) -> dict[str, Any]:
    """Every DESIGN.md metric of one set of predicted edge probabilities (see the module docstring).

    Any baseline plugs in here: the GDS GraphSAGE baseline passes its probabilities like the others.

    Args:
        name: model name (copied into the result).
        data: the evaluated graph; its labelled edges are the held-out classification set.
        ground_truth: the hidden truth of that graph; ``None`` gives the classification metrics only.
        edge_prob: predicted exploit probability per edge of ``data``, in [0, 1].
        node_risk: predicted risk per node; ``None`` runs the Monte Carlo simulation over ``edge_prob``.
        k: paths per crown jewel (K of top-K precision and NDCG@K).
        max_hops: hop bound of the path search.
        threshold: decision threshold of the classification metrics.
        reach_threshold: path probability from which a crown jewel counts as reachable.
        n_trials: Monte Carlo trials when ``node_risk`` is ``None``.
        seed: Monte Carlo seed.
        truth: a precomputed `PathTruth` for the same graph, k and max_hops (saves recomputing it per model).

    Returns:
        ``{"model": name, <metric>: value, ...}`` with NaN where a metric is undefined.

    Raises:
        ValueError: ``edge_prob`` / ``node_risk`` of the wrong shape or outside [0, 1].
    """
    edge_prob = np.asarray(edge_prob, dtype=np.float64)
    if edge_prob.shape != (data.num_edges,):
        raise ValueError(f"edge_prob has shape {edge_prob.shape}, expected ({data.num_edges},)")
    if np.isnan(edge_prob).any() or (edge_prob < 0).any() or (edge_prob > 1).any():
        raise ValueError("edge_prob must lie in [0, 1]")
    result: dict[str, Any] = {"model": name, "k": k, "max_hops": max_hops}
    result.update(_classification(data, edge_prob, threshold))
    if ground_truth is None and truth is None:
        return result
    if truth is None:
        truth = PathTruth(data, ground_truth, k, max_hops)
    result["brier_true"] = float(np.mean((edge_prob - truth.edge_prob) ** 2))
    result["edge_prob_spearman"] = metric_fns.risk_score_correlation(edge_prob, truth.edge_prob)
    if ground_truth is not None:
        outcomes = _outcomes(data, ground_truth)
        result["auc_roc_outcomes"] = metric_fns.auc_roc(outcomes, edge_prob) if outcomes is not None else math.nan

    began = time.perf_counter()
    if node_risk is None:
        node_risk = monte_carlo_risk(data, edge_prob, n_trials, seed)
        result["node_risk_method"] = "monte_carlo"
        result["node_risk_ms"] = (time.perf_counter() - began) * 1000.0
    else:
        node_risk = np.asarray(node_risk, dtype=np.float64)
        if node_risk.shape != (data.num_nodes,):
            raise ValueError(f"node_risk has shape {node_risk.shape}, expected ({data.num_nodes},)")
        result["node_risk_method"] = "own"
    result["risk_score_correlation"] = metric_fns.risk_score_correlation(node_risk, truth.node_risk)

    result.update(_path_metrics(data, edge_prob, truth, reach_threshold))
    return result


def _classification(data: AttackGraphData, edge_prob: np.ndarray, threshold: float) -> dict[str, Any]:
    label = np.where(np.isnan(data.edge_feedback), data.edge_label, data.edge_feedback)
    known = ~np.isnan(label)
    result: dict[str, Any] = {"labelled_edges": int(known.sum())}
    if known.any():
        result.update(metric_fns.classification_metrics(label[known], edge_prob[known], threshold))
    else:
        result.update({key: math.nan for key in CLASSIFICATION_KEYS})
    return result


def _outcomes(data: AttackGraphData, ground_truth: GroundTruth) -> np.ndarray | None:
    """Sampled outcome of every edge of ``data`` from the ground truth (aligned by edge key)."""
    src = ground_truth.node_index(data.node_ids[data.edge_src])
    dst = ground_truth.node_index(data.node_ids[data.edge_dst])
    if (src < 0).any() or (dst < 0).any():
        return None
    rel_code = {t: i for i, t in enumerate(ground_truth.rel_types)}
    rel = np.array([rel_code.get(str(t), -1) for t in data.edge_type.tolist()], dtype=np.int64)
    n = ground_truth.num_nodes
    own = (ground_truth.edge_rel.astype(np.int64) * n + ground_truth.edge_src) * n + ground_truth.edge_dst
    wanted = (rel * n + src) * n + dst
    order = np.argsort(own)
    pos = np.clip(np.searchsorted(own[order], wanted), 0, len(own) - 1)
    found = own[order][pos] == wanted
    if not found.all():
        return None
    return ground_truth.edge_outcome[order[pos]].astype(np.float64)


def _path_metrics(data: AttackGraphData, edge_prob: np.ndarray, truth: PathTruth,
                  reach_threshold: float) -> dict[str, Any]:
    k, max_hops = truth.k, truth.max_hops
    graph = AttackGraph(data.num_nodes, data.edge_src, data.edge_dst, edge_prob)
    began = time.perf_counter()
    predicted = graph.top_paths_to_targets(truth.entry_points, truth.crown_jewels, k, max_hops)
    search_ms = (time.perf_counter() - began) * 1000.0
    precisions, ndcgs = [], []
    true_by_target: dict[int, list[tuple[int, ...]]] = {}
    pred_by_target: dict[int, list[tuple[int, ...]]] = {}
    for target, true_paths in truth.paths.items():
        if not true_paths:
            continue
        pred_paths = predicted.get(target, [])
        true_by_target[target] = [p.nodes for p in true_paths]
        pred_by_target[target] = [p.nodes for p in pred_paths]
        precisions.append(metric_fns.top_k_precision(pred_paths, true_paths, k))
        relevance = {p.nodes: p.probability for p in true_paths}
        for p in pred_paths:
            if p.nodes not in relevance:
                relevance[p.nodes] = truth.path_probability(p.nodes)
        ndcgs.append(metric_fns.ndcg_at_k(pred_paths, relevance, k))
    best = graph.best_path_probabilities(truth.entry_points, max_hops)
    pred_best = {int(t): float(best[t]) for t in truth.crown_jewels}
    return {
        "crown_jewels": int(len(truth.crown_jewels)),
        "crown_jewels_with_paths": len(true_by_target),
        "top_k_precision": float(np.mean(precisions)) if precisions else math.nan,
        "path_detection_accuracy": (metric_fns.path_detection_accuracy(pred_by_target, true_by_target, k)
                                    if true_by_target else math.nan),
        "ndcg_at_k": float(np.nanmean(ndcgs)) if ndcgs and not all(math.isnan(x) for x in ndcgs) else math.nan,
        "crown_jewels_reachable": metric_fns.crown_jewels_reachable(pred_best, reach_threshold),
        "crown_jewels_reachable_true": metric_fns.crown_jewels_reachable(truth.best_path, reach_threshold),
        "path_search_ms": search_ms,
    }


def evaluate_model_on_environment(
    result: TrainResult,
    data: AttackGraphData,
    ground_truth: GroundTruth | None,
    *,
    name: str | None = None,
    k: int = 10,
    max_hops: int = 8,
    n_trials: int = 1024,
    seed: int = 0,
    truth: PathTruth | None = None,
    latency_repeats: int = 10,
) -> dict[str, Any]:
    """Evaluate a trained GNN on a held-out graph.

    The edge probabilities come from one forward pass; node risk is the Monte Carlo simulation over them
    (``risk_score_correlation``), and the distilled node-risk head is reported beside it
    (``risk_score_correlation_head``). ``latency_ms`` is the median time of that forward pass (feature encoding +
    GNN + both heads, CPU unless the model is elsewhere) after warm-up; ``node_risk_ms`` and ``path_search_ms`` time
    the Monte Carlo simulation and the top-K path search separately.

    Args:
        result: a `TrainResult` (from `fit` or `load_model`).
        data: the held-out graph.
        ground_truth: its hidden truth (``None``: classification metrics only).
        name: model name in the result (default: the model type).
        k: paths per crown jewel.
        max_hops: hop bound.
        n_trials: Monte Carlo trials.
        seed: Monte Carlo seed.
        truth: precomputed `PathTruth`.
        latency_repeats: timed forward passes.

    Returns:
        The metrics dict of `evaluate_edge_probabilities` plus ``risk_score_correlation_head``, ``latency_ms``,
        ``training_seconds``, ``epochs_to_convergence``, ``best_epoch``, ``epochs_run``.
    """
    model, spec = result.model, result.spec
    device = next(model.parameters()).device
    edge_prob, head_risk = score_graph(model, spec, data, device)
    metrics = evaluate_edge_probabilities(name or result.config.model_type, data, ground_truth, edge_prob, None, k,
                                          max_hops, n_trials=n_trials, seed=seed, truth=truth)
    if ground_truth is not None or truth is not None:
        true_risk = truth.node_risk if truth is not None else true_node_risk(data, ground_truth)
        head_risk = head_risk.copy()
        head_risk[data.entry_mask] = 1.0
        metrics["risk_score_correlation_head"] = metric_fns.risk_score_correlation(head_risk, true_risk)
    metrics["latency_ms"] = metric_fns.latency_ms(lambda: score_graph(model, spec, data, device), warmup=2,
                                                  repeats=latency_repeats)
    metrics["training_seconds"] = result.training_seconds
    metrics["epochs_to_convergence"] = result.epochs_to_convergence
    metrics["best_epoch"] = result.best_epoch
    metrics["epochs_run"] = result.epochs_run
    return metrics


def compare_on_test(
    models: AbcMapping[str, TrainResult],
    train_data: AttackGraphData | Sequence[AttackGraphData],
    test_data: AttackGraphData,
    ground_truth: GroundTruth,
    *,
    baselines: bool = True,
    extra: AbcMapping[str, tuple[np.ndarray, np.ndarray | None]] | None = None,
    k: int = 10,
    max_hops: int = 8,
    n_trials: int = 1024,
    seed: int = 0,
    mapping: Mapping | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluate trained models and the baselines on the same held-out test graph.

    Args:
        models: name -> trained model.
        train_data: the graph(s) the edge-features-only baseline is trained on (the GNNs' training graphs).
        test_data: the held-out graph.
        ground_truth: its hidden truth.
        baselines: also run hop-count, CVSS-Dijkstra and the edge-features-only classifier.
        extra: further baselines as name -> ``(edge_prob, node_risk or None)`` (e.g. GDS GraphSAGE + LR).
        k: paths per crown jewel.
        max_hops: hop bound.
        n_trials: Monte Carlo trials.
        seed: seed of the Monte Carlo simulation and the classifier.
        mapping: mapping for the edge-features-only classifier's feature spec (declared categorical values).

    Returns:
        name -> metrics dict, models first, then baselines.
    """
    from gnn_neo4j import baselines as baseline_fns

    truth = PathTruth(test_data, ground_truth, k, max_hops)
    results: dict[str, dict[str, Any]] = {}
    for name, result in models.items():
        results[name] = evaluate_model_on_environment(result, test_data, ground_truth, name=name, k=k,
                                                      max_hops=max_hops, n_trials=n_trials, seed=seed, truth=truth)
        log.info("evaluated %s: ndcg@%d %.3f, risk correlation %.3f", name, k, results[name]["ndcg_at_k"],
                 results[name]["risk_score_correlation"])
    if baselines:
        for name, scores in baseline_fns.run_baselines(train_data, test_data, max_hops=max_hops, seed=seed,
                                                              mapping=mapping).items():
            metrics = evaluate_edge_probabilities(name, test_data, ground_truth, scores.edge_prob, scores.node_risk,
                                                  k, max_hops, n_trials=n_trials, seed=seed, truth=truth)
            metrics["latency_ms"] = scores.latency_ms
            metrics["training_seconds"] = scores.training_seconds
            metrics["epochs_to_convergence"] = math.nan
            results[name] = metrics
    for name, (edge_prob, node_risk) in (extra or {}).items():
        results[name] = evaluate_edge_probabilities(name, test_data, ground_truth, edge_prob, node_risk, k, max_hops,
                                                    n_trials=n_trials, seed=seed, truth=truth)
    return results
