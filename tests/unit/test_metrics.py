"""Metrics on small hand-computed cases, plus their edge cases."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from gnn_neo4j import metrics
from gnn_neo4j.paths import AttackPath

# Shared classification case:
#   y_true = 1 1 1 0 0 0 0 1
#   y_prob = .9 .8 .4 .7 .2 .1 .3 .6   -> at threshold 0.5: y_pred = 1 1 0 1 0 0 0 1
#   TP = 3 (idx 0, 1, 7), FP = 1 (idx 3), FN = 1 (idx 2), TN = 3 (idx 4, 5, 6)
Y_TRUE = np.array([1, 1, 1, 0, 0, 0, 0, 1])
Y_PROB = np.array([0.9, 0.8, 0.4, 0.7, 0.2, 0.1, 0.3, 0.6])
Y_PRED = (Y_PROB >= 0.5).astype(int)


def test_accuracy():
    # (TP + TN) / n = (3 + 3) / 8
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(0.75)


def test_precision_recall_f1():
    # precision = 3 / (3 + 1); recall = 3 / (3 + 1); f1 = 2*3 / (2*3 + 1 + 1) = 0.75
    assert metrics.precision(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    assert metrics.recall(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    assert metrics.f1(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    # y_true 1 1 0 0, y_pred 1 0 0 0: TP 1, FP 0, FN 1 -> precision 1, recall 0.5, f1 = 2 / (2 + 0 + 1) = 2/3
    assert metrics.precision([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(1.0)
    assert metrics.recall([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    assert metrics.f1([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(2 / 3)


def test_undefined_precision_recall_f1_are_nan():
    # Nothing predicted positive: precision 0/0; positives exist, so recall = 0/2 and f1 = 0 / (0 + 0 + 2) = 0.
    assert math.isnan(metrics.precision([1, 1, 0], [0, 0, 0]))
    assert metrics.recall([1, 1, 0], [0, 0, 0]) == 0.0
    assert metrics.f1([1, 1, 0], [0, 0, 0]) == 0.0
    # No positive label: recall 0/0; no positive label and no positive prediction: f1 0/0.
    assert math.isnan(metrics.recall([0, 0], [1, 0]))
    assert math.isnan(metrics.f1([0, 0], [0, 0]))


def test_auc_roc():
    # Positives score .9 .8 .4 .6, negatives .7 .2 .1 .3. Pairs (pos > neg) of 16:
    #   .9 beats 4, .8 beats 4, .6 beats 3 (not .7), .4 beats 3 (not .7) -> 14 / 16 = 0.875
    assert metrics.auc_roc(Y_TRUE, Y_PROB) == pytest.approx(0.875)


def test_auc_pr_is_average_precision():
    # Ranked by score: .9(+) .8(+) .7(-) .6(+) .4(+) .3(-) .2(-) .1(-)
    # Precision at each positive: 1/1, 2/2, 3/4, 4/5; AP = mean = (1 + 1 + 0.75 + 0.8) / 4 = 0.8875
    assert metrics.auc_pr(Y_TRUE, Y_PROB) == pytest.approx(0.8875)


def test_auc_with_one_class_is_nan():
    assert math.isnan(metrics.auc_roc([1, 1, 1], [0.2, 0.5, 0.9]))
    assert math.isnan(metrics.auc_pr([0, 0], [0.2, 0.5]))


def test_classification_metrics():
    result = metrics.classification_metrics(Y_TRUE, Y_PROB)
    assert result == pytest.approx(
        {"accuracy": 0.75, "precision": 0.75, "recall": 0.75, "f1": 0.75, "auc_roc": 0.875, "auc_pr": 0.8875}
    )
    # Threshold 0.65: y_pred = 1 1 0 1 0 0 0 0 -> TP 2, FP 1, FN 2, TN 3
    #   accuracy 5/8, precision 2/3, recall 2/4, f1 = 4 / (4 + 1 + 2) = 4/7; AUCs do not depend on the threshold.
    result = metrics.classification_metrics(Y_TRUE, Y_PROB, threshold=0.65)
    assert result == pytest.approx(
        {"accuracy": 5 / 8, "precision": 2 / 3, "recall": 0.5, "f1": 4 / 7, "auc_roc": 0.875, "auc_pr": 0.8875}
    )


def test_classification_metrics_with_one_class():
    # All negative; predictions at 0.5: 0 1 0 -> accuracy 2/3, precision 0/1 = 0, recall and AUCs undefined.
    result = metrics.classification_metrics(np.array([0, 0, 0]), np.array([0.1, 0.7, 0.2]))
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["precision"] == 0.0
    assert result["f1"] == 0.0
    assert all(math.isnan(result[name]) for name in ("recall", "auc_roc", "auc_pr"))


@pytest.mark.parametrize(
    ("y_true", "y_prob", "message"),
    [
        ([], [], "empty"),
        ([1, 0], [0.5], "same shape"),
        ([1, 2], [0.5, 0.5], "binary"),
        ([1, 0], [0.5, 1.5], r"\[0, 1\]"),
        ([1, 0], [0.5, float("nan")], "NaN"),
        ([[1, 0]], [[0.5, 0.5]], "1-D"),
    ],
)
def test_classification_metrics_bad_input(y_true, y_prob, message):
    with pytest.raises(ValueError, match=message):
        metrics.classification_metrics(np.array(y_true), np.array(y_prob))


def test_classification_metrics_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        metrics.classification_metrics(Y_TRUE, Y_PROB, threshold=1.5)
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])


def test_risk_score_correlation():
    # pred ranks 1 2 3 4 5, true ranks 2 1 3 4 5: d = (1, -1, 0, 0, 0), sum d^2 = 2
    # rho = 1 - 6 * 2 / (5 * (25 - 1)) = 1 - 12 / 120 = 0.9
    pred = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    true = np.array([0.25, 0.05, 0.5, 0.6, 0.9])
    assert metrics.risk_score_correlation(pred, true) == pytest.approx(0.9)
    assert metrics.risk_score_correlation(pred, -true) == pytest.approx(-0.9)


def test_risk_score_correlation_edge_cases():
    assert math.isnan(metrics.risk_score_correlation(np.array([0.5, 0.5, 0.5]), np.array([0.1, 0.2, 0.3])))
    with pytest.raises(ValueError, match="at least two"):
        metrics.risk_score_correlation(np.array([0.5]), np.array([0.1]))
    with pytest.raises(ValueError, match="empty"):
        metrics.risk_score_correlation(np.array([]), np.array([]))
    with pytest.raises(ValueError, match="same shape"):
        metrics.risk_score_correlation(np.array([0.1, 0.2]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="NaN"):
        metrics.risk_score_correlation(np.array([0.1, np.nan]), np.array([0.1, 0.2]))


def test_top_k_precision():
    # K = 3: predicted top-3 {A, B, C}, true top-3 {A, C, D}: intersection {A, C} -> 2 / 3.
    a, b, c, d = (0, 1, 5), (0, 2, 5), (3, 5), (4, 1, 5)
    assert metrics.top_k_precision([a, b, c, d], [a, c, d, b], 3) == pytest.approx(2 / 3)
    # K = 1: top-1 A vs A -> 1; node lists and AttackPath objects count as the same path.
    attack_path = AttackPath(nodes=a, edges=(0, 1), probability=0.5, hops=2, log_weight=math.log(2))
    assert metrics.top_k_precision([list(a)], [attack_path], 1) == 1.0
    # Fewer true paths than K still divides by K: {A} ∩ {A} / 4 = 0.25.
    assert metrics.top_k_precision([a, b], [a], 4) == pytest.approx(0.25)
    assert metrics.top_k_precision([], [a], 2) == 0.0
    with pytest.raises(ValueError, match="k must be"):
        metrics.top_k_precision([a], [a], 0)
    with pytest.raises(ValueError, match="sequence of node ids"):
        metrics.top_k_precision([5], [a], 1)


def test_path_detection_accuracy():
    # K = 2. Crown jewel 5: true top-2 {A, C}, predicted top-2 {A, B} -> 1 found.
    # Crown jewel 9: true top-2 {E} (only one true path), predicted top-2 {E, F} -> 1 found.
    # Crown jewel 7: true top-2 {G, H}, no prediction -> 0 found. Total: (1 + 1 + 0) / (2 + 1 + 2) = 2/5.
    a, b, c = (0, 1, 5), (0, 2, 5), (3, 5)
    e, f = (0, 9), (3, 9)
    g, h = (0, 7), (1, 7)
    pred = {5: [a, b, c], 9: [e, f], 11: [(0, 11)]}
    true = {5: [a, c, b], 9: [e], 7: [g, h]}
    assert metrics.path_detection_accuracy(pred, true, 2) == pytest.approx(2 / 5)
    assert math.isnan(metrics.path_detection_accuracy(pred, {5: []}, 2))
    with pytest.raises(ValueError, match="k must be"):
        metrics.path_detection_accuracy(pred, true, -1)


def test_ndcg_at_k():
    # True relevance A .5, B .4, C .2, D .1; predicted ranking C, A, X (unknown, rel 0), K = 3.
    #   DCG  = .2/log2(2) + .5/log2(3) + 0/log2(4) = .2 + .315465 = .515465
    #   IDCG = .5/log2(2) + .4/log2(3) + .2/log2(4) = .5 + .252372 + .1 = .852372
    #   NDCG = .515465 / .852372 = .604742
    a, b, c, d, x = (0, 1), (0, 2, 1), (3, 1), (4, 1), (9, 1)
    relevance = {a: 0.5, b: 0.4, c: 0.2, d: 0.1}
    expected = (0.2 + 0.5 / math.log2(3)) / (0.5 + 0.4 / math.log2(3) + 0.2 / 2)
    assert expected == pytest.approx(0.604742, abs=1e-6)
    assert metrics.ndcg_at_k([c, a, x], relevance, 3) == pytest.approx(expected)
    # The ideal ranking scores 1; K larger than both lists uses all of them.
    assert metrics.ndcg_at_k([a, b, c, d], relevance, 10) == pytest.approx(1.0)
    # A repeated path counts once: [A, A] at K = 2 -> DCG .5, IDCG .5 + .4/log2(3).
    assert metrics.ndcg_at_k([a, a], relevance, 2) == pytest.approx(0.5 / (0.5 + 0.4 / math.log2(3)))


def test_ndcg_edge_cases():
    assert math.isnan(metrics.ndcg_at_k([(0, 1)], {}, 3))
    assert math.isnan(metrics.ndcg_at_k([(0, 1)], {(0, 1): 0.0}, 3))
    assert metrics.ndcg_at_k([], {(0, 1): 0.3}, 3) == 0.0
    with pytest.raises(ValueError, match="relevance"):
        metrics.ndcg_at_k([(0, 1)], {(0, 1): -0.1}, 3)
    with pytest.raises(ValueError, match="k must be"):
        metrics.ndcg_at_k([(0, 1)], {(0, 1): 0.3}, 0)


def test_crown_jewels_reachable():
    # Threshold 0.3: jewel 1 (0.5) yes, jewel 2 (0.3) yes (>=), jewel 3 (0.1) no, jewel 4 (best of .05, .35) yes,
    # jewel 5 (no path) no -> 3.
    probs = {1: 0.5, 2: 0.3, 3: 0.1, 4: [0.05, 0.35], 5: []}
    assert metrics.crown_jewels_reachable(probs, 0.3) == 3
    assert metrics.crown_jewels_reachable(probs, 0.6) == 0
    assert metrics.crown_jewels_reachable({}, 0.5) == 0
    with pytest.raises(ValueError, match="threshold"):
        metrics.crown_jewels_reachable(probs, 0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.crown_jewels_reachable({1: 1.2}, 0.5)


def test_latency_ms_is_median_after_warmup(monkeypatch):
    # A fake perf_counter that only the work advances: warm-up calls take 50 s each and must not be timed;
    # timed calls take 2, 3 and 30 ms -> median 3 ms.
    clock = [100.0]
    durations = iter([50.0, 50.0, 0.002, 0.003, 0.030])

    def work():
        clock[0] += next(durations)

    monkeypatch.setattr(metrics.time, "perf_counter", lambda: clock[0])
    assert metrics.latency_ms(work, warmup=2, repeats=3) == pytest.approx(3.0)
    assert next(durations, None) is None


def test_latency_ms_times_real_work():
    assert metrics.latency_ms(lambda: time.sleep(0.001), warmup=0, repeats=3) >= 1.0


def test_latency_ms_bad_input():
    with pytest.raises(TypeError, match="callable"):
        metrics.latency_ms(42)
    with pytest.raises(ValueError, match="repeats"):
        metrics.latency_ms(lambda: None, repeats=0)
    with pytest.raises(ValueError, match="warmup"):
        metrics.latency_ms(lambda: None, warmup=-1)
