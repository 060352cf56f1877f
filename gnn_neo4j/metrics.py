"""Evaluation metrics, one function each, with the definitions of DESIGN.md "Learning".

Numpy (or plain sequences) in, float / int / dict out; nothing here prints or logs.

Conventions:
- Empty input or a ``k < 1`` raises ValueError.
- A metric whose denominator is zero is undefined and returns ``float('nan')`` (documented per function): AUC-ROC
  and AUC-PR with only one class present, precision with no predicted positive, recall with no true positive,
  Spearman correlation with a constant input, NDCG with no relevant true path.
- A path is a sequence of node ids (compared as a tuple); an object with a ``nodes`` attribute (an
  ``AttackPath``) counts as its ``nodes``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score

PathKey = tuple[Hashable, ...]


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of predictions equal to the label.

    Args:
        y_true: binary labels (0/1 or bool), shape (n,).
        y_pred: binary predictions, shape (n,).

    Returns:
        (TP + TN) / n.

    Raises:
        ValueError: on empty input, mismatched shapes or non-binary values.
    """
    truth, pred = _binary_pair(y_true, y_pred, "y_pred")
    return float(np.mean(truth == pred))


def precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """TP / (TP + FP): share of predicted positives that are positive.

    Args:
        y_true: binary labels, shape (n,).
        y_pred: binary predictions, shape (n,).

    Returns:
        The precision, or nan when nothing is predicted positive.

    Raises:
        ValueError: on empty input, mismatched shapes or non-binary values.
    """
    truth, pred = _binary_pair(y_true, y_pred, "y_pred")
    tp, fp, _ = _counts(truth, pred)
    return _ratio(tp, tp + fp)


def recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """TP / (TP + FN): share of positives that are predicted positive.

    Args:
        y_true: binary labels, shape (n,).
        y_pred: binary predictions, shape (n,).

    Returns:
        The recall, or nan when there is no positive label.

    Raises:
        ValueError: on empty input, mismatched shapes or non-binary values.
    """
    truth, pred = _binary_pair(y_true, y_pred, "y_pred")
    tp, _, fn = _counts(truth, pred)
    return _ratio(tp, tp + fn)


def f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall.

    Written with counts, so a model that predicts no positive while positives exist gets 0.0, not nan.

    Args:
        y_true: binary labels, shape (n,).
        y_pred: binary predictions, shape (n,).

    Returns:
        The F1 score, or nan when there is neither a positive label nor a positive prediction.

    Raises:
        ValueError: on empty input, mismatched shapes or non-binary values.
    """
    truth, pred = _binary_pair(y_true, y_pred, "y_pred")
    tp, fp, fn = _counts(truth, pred)
    return _ratio(2 * tp, 2 * tp + fp + fn)


def auc_roc(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Area under the ROC curve (scikit-learn ``roc_auc_score``).

    Args:
        y_true: binary labels, shape (n,).
        y_prob: predicted probabilities in [0, 1], shape (n,).

    Returns:
        AUC-ROC, or nan when only one class is present in ``y_true`` (the curve is undefined).

    Raises:
        ValueError: on empty input, mismatched shapes, non-binary labels or probabilities outside [0, 1].
    """
    truth, prob = _labels_and_probabilities(y_true, y_prob)
    if _single_class(truth):
        return math.nan
    return float(roc_auc_score(truth, prob))


def auc_pr(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Area under the precision-recall curve, as average precision (scikit-learn ``average_precision_score``).

    Average precision sums precision at each threshold weighted by the recall gained; unlike the trapezoidal
    area it does not interpolate optimistically between operating points.

    Args:
        y_true: binary labels, shape (n,).
        y_prob: predicted probabilities in [0, 1], shape (n,).

    Returns:
        AUC-PR, or nan when only one class is present in ``y_true``.

    Raises:
        ValueError: on empty input, mismatched shapes, non-binary labels or probabilities outside [0, 1].
    """
    truth, prob = _labels_and_probabilities(y_true, y_prob)
    if _single_class(truth):
        return math.nan
    return float(average_precision_score(truth, prob))


def classification_metrics(y_true: np.ndarray, y_prob: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """All edge-exploitability classification metrics on held-out edges.

    Args:
        y_true: binary labels (exploited or not), shape (n,).
        y_prob: predicted exploit probabilities in [0, 1], shape (n,).
        threshold: a probability >= threshold is a positive prediction; must lie in [0, 1].

    Returns:
        ``{"accuracy", "precision", "recall", "f1", "auc_roc", "auc_pr"}`` as floats. ``auc_roc`` and ``auc_pr`` are
        nan when only one class is present; precision / recall / f1 are nan where their denominator is zero
        (see the single-metric functions).

    Raises:
        ValueError: on empty input, mismatched shapes, non-binary labels, probabilities or threshold outside [0, 1].
    """
    truth, prob = _labels_and_probabilities(y_true, y_prob)
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    pred = prob >= threshold
    tp, fp, fn = _counts(truth, pred)
    single = _single_class(truth)
    return {
        "accuracy": float(np.mean(truth == pred)),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "auc_roc": math.nan if single else float(roc_auc_score(truth, prob)),
        "auc_pr": math.nan if single else float(average_precision_score(truth, prob)),
    }


def risk_score_correlation(pred: np.ndarray, true: np.ndarray) -> float:
    """Spearman rank correlation between predicted node risk and true compromise probability.

    Args:
        pred: predicted risk per node, shape (n,).
        true: true compromise probability per node (same node order), shape (n,).

    Returns:
        Spearman's rho in [-1, 1] (ties get average ranks), or nan when either input is constant.

    Raises:
        ValueError: on fewer than two nodes, mismatched shapes or non-finite values.
    """
    pred_arr = _finite_vector(pred, "pred")
    true_arr = _finite_vector(true, "true")
    if pred_arr.shape != true_arr.shape:
        raise ValueError(f"pred and true must have the same shape, got {pred_arr.shape} and {true_arr.shape}")
    if len(pred_arr) < 2:
        raise ValueError(f"a rank correlation needs at least two nodes, got {len(pred_arr)}")
    if np.all(pred_arr == pred_arr[0]) or np.all(true_arr == true_arr[0]):
        return math.nan
    return float(spearmanr(pred_arr, true_arr).statistic)


def top_k_precision(pred_paths: Sequence[Any], true_paths: Sequence[Any], k: int) -> float:
    """|predicted top-K paths ∩ true top-K paths| / K.

    Both lists are ranked best first; only their first k entries count. The denominator is K even when fewer
    than K true paths exist, as DESIGN.md defines it.

    Args:
        pred_paths: predicted paths, best first (node sequences or objects with ``nodes``).
        true_paths: true paths, best first.
        k: cut-off K (>= 1).

    Returns:
        A share in [0, 1].

    Raises:
        ValueError: on ``k < 1`` or a path that is not a sequence of node ids.
    """
    k = _check_k(k)
    pred_top = {_path_key(p) for p in list(pred_paths)[:k]}
    true_top = {_path_key(p) for p in list(true_paths)[:k]}
    return len(pred_top & true_top) / k


def path_detection_accuracy(
    pred_by_target: Mapping[Hashable, Sequence[Any]], true_by_target: Mapping[Hashable, Sequence[Any]], k: int
) -> float:
    """Share of true top-K paths, over all crown jewels, found in the predicted top-K of the same crown jewel.

    ``sum_t |true_t[:K] ∩ pred_t[:K]| / sum_t |true_t[:K]|``; a crown jewel missing from ``pred_by_target`` has an
    empty prediction. Crown jewels only in ``pred_by_target`` add nothing (there is no true path to find).

    Args:
        pred_by_target: crown jewel -> predicted paths, best first.
        true_by_target: crown jewel -> true paths, best first.
        k: cut-off K (>= 1).

    Returns:
        A share in [0, 1], or nan when no crown jewel has a true path.

    Raises:
        ValueError: on ``k < 1`` or a path that is not a sequence of node ids.
    """
    k = _check_k(k)
    found = 0
    total = 0
    for target, true_paths in true_by_target.items():
        true_top = {_path_key(p) for p in list(true_paths)[:k]}
        pred_top = {_path_key(p) for p in list(pred_by_target.get(target, ()))[:k]}
        found += len(true_top & pred_top)
        total += len(true_top)
    return _ratio(found, total)


def ndcg_at_k(pred_paths_ranked: Sequence[Any], true_path_relevance: Mapping[Any, float], k: int) -> float:
    """Normalised discounted cumulative gain of a path ranking at K.

    Relevance of a path = its true probability (``true_path_relevance``, 0 for paths not in it), linear gain,
    discount ``log2(rank + 1)`` with ranks from 1:

        DCG@K  = sum_{i=1..min(K, n)} rel(pred_i) / log2(i + 1)
        IDCG@K = the same sum over the K largest values of ``true_path_relevance``
        NDCG@K = DCG@K / IDCG@K

    A path predicted twice counts only at its first rank (otherwise NDCG could exceed 1).

    Args:
        pred_paths_ranked: predicted paths, best first.
        true_path_relevance: true path (node sequence) -> true probability (>= 0).
        k: cut-off K (>= 1).

    Returns:
        NDCG in [0, 1], or nan when IDCG is 0 (no true path with positive relevance).

    Raises:
        ValueError: on ``k < 1``, a negative or non-finite relevance, or a path that is not a sequence of node ids.
    """
    k = _check_k(k)
    relevance: dict[PathKey, float] = {}
    for path, value in true_path_relevance.items():
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"relevance must be finite and >= 0, got {value} for path {path!r}")
        relevance[_path_key(path)] = value
    seen: set[PathKey] = set()
    dcg = 0.0
    for rank, path in enumerate(list(pred_paths_ranked)[:k], start=1):
        key = _path_key(path)
        if key in seen:
            continue
        seen.add(key)
        dcg += relevance.get(key, 0.0) / math.log2(rank + 1)
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum(value / math.log2(rank + 1) for rank, value in enumerate(ideal, start=1))
    return _ratio(dcg, idcg)


def crown_jewels_reachable(path_prob_by_target: Mapping[Hashable, float | Iterable[float]], threshold: float) -> int:
    """Number of crown jewels with a path of probability >= threshold.

    Args:
        path_prob_by_target: crown jewel -> its best path probability, or -> the probabilities of its paths (the
            largest counts; an empty collection means unreachable).
        threshold: minimum path probability, in (0, 1].

    Returns:
        The count of crown jewels whose best path probability is >= threshold.

    Raises:
        ValueError: on a threshold outside (0, 1] or a probability outside [0, 1] / NaN.
    """
    threshold = float(threshold)
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], got {threshold}")
    count = 0
    for target, value in path_prob_by_target.items():
        if isinstance(value, (int, float, np.integer, np.floating)):
            values = [float(value)]
        else:
            values = [float(v) for v in value]
        for v in values:
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"path probability for crown jewel {target!r} must lie in [0, 1], got {v}")
        if values and max(values) >= threshold:
            count += 1
    return count


def latency_ms(fn: Callable[[], object], warmup: int = 3, repeats: int = 10) -> float:
    """Median wall time of ``fn()`` in milliseconds after warm-up calls, measured with ``time.perf_counter``.

    Args:
        fn: the zero-argument call to time (e.g. ``lambda: model(batch)``); its result is discarded.
        warmup: untimed calls first (>= 0), so caches, JIT and allocators settle.
        repeats: timed calls (>= 1).

    Returns:
        The median of the timed calls, in milliseconds.

    Raises:
        TypeError: if ``fn`` is not callable.
        ValueError: on ``warmup < 0`` or ``repeats < 1``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    for _ in range(warmup):
        fn()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - start) * 1000.0)
    return float(statistics.median(timings))


def _binary_vector(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind not in "iuf" or not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold binary values 0/1")
    return arr == 1


def _binary_pair(y_true: np.ndarray, y_pred: np.ndarray, pred_name: str) -> tuple[np.ndarray, np.ndarray]:
    truth = _binary_vector(y_true, "y_true")
    pred = _binary_vector(y_pred, pred_name)
    if truth.shape != pred.shape:
        raise ValueError(f"y_true and {pred_name} must have the same shape, got {truth.shape} and {pred.shape}")
    return truth, pred


def _labels_and_probabilities(y_true: np.ndarray, y_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = _binary_vector(y_true, "y_true")
    prob = _finite_vector(y_prob, "y_prob")
    if truth.shape != prob.shape:
        raise ValueError(f"y_true and y_prob must have the same shape, got {truth.shape} and {prob.shape}")
    if np.any(prob < 0) or np.any(prob > 1):
        raise ValueError("y_prob must lie in [0, 1]")
    return truth, prob


def _finite_vector(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return arr


def _counts(truth: np.ndarray, pred: np.ndarray) -> tuple[int, int, int]:
    tp = int(np.sum(truth & pred))
    fp = int(np.sum(~truth & pred))
    fn = int(np.sum(truth & ~pred))
    return tp, fp, fn


def _single_class(truth: np.ndarray) -> bool:
    return bool(truth.all() or not truth.any())


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else math.nan


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return int(k)


def _path_key(path: Any) -> PathKey:
    nodes = getattr(path, "nodes", path)
    if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
        raise ValueError(f"a path must be a sequence of node ids, got {path!r}")
    key = tuple(int(n) if isinstance(n, np.integer) else n for n in nodes)
    if not key:
        raise ValueError("a path must have at least one node")
    return key
