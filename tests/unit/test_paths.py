"""k most probable attack paths against brute-force enumeration of all simple paths."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from gnn_neo4j.paths import AttackGraph, AttackPath, best_path_probabilities


def _random_graph(seed: int, num_nodes: int, num_edges: int, quantised: bool = False):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, num_nodes, num_edges)
    dst = rng.integers(0, num_nodes, num_edges)
    if quantised:
        # Few distinct values, including 1.0 (zero weight) and 0.0 (unusable): exercises ties and zero-weight edges.
        prob = rng.choice([0.0, 0.25, 0.5, 1.0], num_edges)
    else:
        prob = rng.uniform(0.01, 1.0, num_edges)
        prob[rng.random(num_edges) < 0.1] = 0.0
    return src, dst, prob


def _brute_force(num_nodes, src, dst, prob, sources, target, max_hops):
    """All simple paths (as node tuples) from any source to target with <= max_hops edges -> best probability.

    Enumerates every parallel-edge choice on a MultiDiGraph, so "keep the most probable parallel edge" is checked,
    not assumed.
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(num_nodes))
    for e, (u, v, p) in enumerate(zip(src.tolist(), dst.tolist(), prob.tolist())):
        if p > 0:
            graph.add_edge(u, v, key=e, prob=p)
    best: dict[tuple[int, ...], float] = {}
    for s in sorted(set(int(x) for x in sources)):
        if s == target:
            best[(s,)] = 1.0
            continue
        if max_hops == 0:
            continue
        for edge_path in nx.all_simple_edge_paths(graph, s, target, cutoff=max_hops):
            nodes = (s,) + tuple(v for _, v, _ in edge_path)
            p = math.prod(graph.edges[u, v, key]["prob"] for u, v, key in edge_path)
            best[nodes] = max(best.get(nodes, 0.0), p)
    return best


def _check_paths(paths: list[AttackPath], brute: dict[tuple[int, ...], float], k, max_hops, src, dst, prob, sources):
    expected = sorted(brute.values(), reverse=True)[:k]
    assert len(paths) == len(expected)
    got = [p.probability for p in paths]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert all(a >= b * (1 - 1e-12) for a, b in zip(got, got[1:])), "not sorted by probability"
    assert len({p.nodes for p in paths}) == len(paths), "duplicate paths"
    source_set = {int(s) for s in sources}
    for path in paths:
        assert path.nodes in brute, f"{path.nodes} is not a simple path from an entry point"
        assert brute[path.nodes] == pytest.approx(path.probability, rel=1e-12)
        assert len(set(path.nodes)) == len(path.nodes)
        assert path.nodes[0] in source_set
        assert path.hops == len(path.edges) == len(path.nodes) - 1 <= max_hops
        for (u, v), e in zip(zip(path.nodes, path.nodes[1:]), path.edges):
            assert (src[e], dst[e]) == (u, v)
        assert path.probability == pytest.approx(math.prod(prob[list(path.edges)]), rel=1e-12)
        assert path.log_weight == pytest.approx(-math.log(path.probability), abs=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_k_best_paths_match_brute_force(seed):
    rng = np.random.default_rng(1000 + seed)
    num_nodes = int(rng.integers(4, 9))
    num_edges = int(rng.integers(num_nodes, 4 * num_nodes))
    src, dst, prob = _random_graph(seed, num_nodes, num_edges, quantised=seed % 4 == 0)
    graph = AttackGraph(num_nodes, src, dst, prob)
    for source in range(num_nodes):
        for target in range(num_nodes):
            for max_hops in (1, 2, num_nodes):
                k = int(rng.integers(1, 12))
                brute = _brute_force(num_nodes, src, dst, prob, [source], target, max_hops)
                paths = graph.k_best_paths(source, target, k, max_hops)
                _check_paths(paths, brute, k, max_hops, src, dst, prob, [source])


@pytest.mark.parametrize("seed", range(30))
def test_top_paths_to_targets_match_brute_force(seed):
    rng = np.random.default_rng(2000 + seed)
    num_nodes = int(rng.integers(5, 10))
    num_edges = int(rng.integers(num_nodes, 4 * num_nodes))
    src, dst, prob = _random_graph(50 + seed, num_nodes, num_edges, quantised=seed % 3 == 0)
    graph = AttackGraph(num_nodes, src, dst, prob)
    sources = rng.choice(num_nodes, int(rng.integers(1, 4)), replace=False)
    targets = rng.choice(num_nodes, int(rng.integers(1, 4)), replace=False)
    for max_hops in (0, 1, 3, num_nodes):
        k = int(rng.integers(1, 15))
        result = graph.top_paths_to_targets(sources, targets, k, max_hops)
        assert set(result) == {int(t) for t in targets}
        for target in targets:
            brute = _brute_force(num_nodes, src, dst, prob, sources, int(target), max_hops)
            _check_paths(result[int(target)], brute, k, max_hops, src, dst, prob, sources)


def test_hop_bound_returns_best_path_within_bound():
    # 0 -> 1 -> 2 -> 3 -> 4 is the most probable path (0.9^4 = 0.6561) but has 4 hops;
    # 0 -> 5 -> 4 has 2 hops and probability 0.5 * 0.5 = 0.25; 0 -> 4 directly has probability 0.1.
    src = np.array([0, 1, 2, 3, 0, 5, 0])
    dst = np.array([1, 2, 3, 4, 5, 4, 4])
    prob = np.array([0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.1])
    graph = AttackGraph(6, src, dst, prob)
    assert [p.nodes for p in graph.k_best_paths(0, 4, 3, 4)] == [(0, 1, 2, 3, 4), (0, 5, 4), (0, 4)]
    assert [p.nodes for p in graph.k_best_paths(0, 4, 3, 3)] == [(0, 5, 4), (0, 4)]
    assert [p.nodes for p in graph.k_best_paths(0, 4, 3, 1)] == [(0, 4)]
    assert graph.k_best_paths(0, 4, 3, 3)[0].probability == pytest.approx(0.25)


def test_hop_bound_needs_a_worse_prefix():
    # The best way to reach 3 is 0->1->2->3 (0.9^3), but within 2 hops the target 4 is only reachable via the
    # worse prefix 0->3 (0.2): a search that keeps one label per node would miss 0->3->4.
    src = np.array([0, 1, 2, 0, 3])
    dst = np.array([1, 2, 3, 3, 4])
    prob = np.array([0.9, 0.9, 0.9, 0.2, 0.8])
    graph = AttackGraph(5, src, dst, prob)
    paths = graph.k_best_paths(0, 4, 5, 2)
    assert [p.nodes for p in paths] == [(0, 3, 4)]
    assert paths[0].probability == pytest.approx(0.16)
    assert [p.nodes for p in graph.k_best_paths(0, 4, 5, 4)] == [(0, 1, 2, 3, 4), (0, 3, 4)]


def test_spur_search_keeps_labels_the_heuristic_ranks_wrongly():
    # After (0, 4) is taken, the spur search from 0 must not use 0 -> 4. The heuristic from 1 counts the cycle
    # 1 -> 0 -> 4 (0.4 * 0.8), so the 1-hop label at 1 (0 -> 1, weight -log 0.4) pops before the 2-hop label at 1
    # (0 -> 3 -> 1, weight -log 0.42). Only keeping both (neither dominates) finds (0, 3, 1, 4) = 0.6 * 0.7 * 0.2
    # = 0.084 ahead of (0, 1, 4) = 0.4 * 0.2 = 0.08.
    src = np.array([0, 0, 0, 3, 1, 1])
    dst = np.array([4, 1, 3, 1, 0, 4])
    prob = np.array([0.8, 0.4, 0.6, 0.7, 0.4, 0.2])
    graph = AttackGraph(5, src, dst, prob)
    paths = graph.k_best_paths(0, 4, 5, 3)
    assert [p.nodes for p in paths] == [(0, 4), (0, 3, 1, 4), (0, 1, 4)]
    assert [p.probability for p in paths] == pytest.approx([0.8, 0.084, 0.08])


def test_parallel_edges_keep_the_most_probable():
    src = np.array([0, 0, 0, 1])
    dst = np.array([1, 1, 1, 2])
    prob = np.array([0.3, 0.8, 0.5, 0.5])
    graph = AttackGraph(3, src, dst, prob, rel_types=["A", "B", "C", "D"])
    paths = graph.k_best_paths(0, 2, 5, 3)
    assert len(paths) == 1
    assert paths[0].edges == (1, 3)
    assert paths[0].rel_types == ("B", "D")
    assert paths[0].probability == pytest.approx(0.4)
    assert graph.num_edges == 2


def test_zero_probability_and_self_loops_are_unusable():
    graph = AttackGraph(3, np.array([0, 1, 1]), np.array([1, 1, 2]), np.array([1.0, 1.0, 0.0]))
    assert graph.k_best_paths(0, 2, 3, 5) == []
    assert graph.num_edges == 1


def test_entry_point_that_is_a_crown_jewel_has_a_zero_hop_path():
    graph = AttackGraph(3, np.array([0, 1]), np.array([1, 2]), np.array([0.5, 0.5]))
    result = graph.top_paths_to_targets(np.array([0, 2]), np.array([2]), 3, 4)
    assert [(p.nodes, p.probability, p.hops) for p in result[2]] == [((2,), 1.0, 0), ((0, 1, 2), 0.25, 2)]


def test_top_paths_start_at_real_entry_points_and_pass_other_entry_points():
    # Entry points 0 and 1; 0 -> 1 -> 2: both (1, 2) and (0, 1, 2) are attack paths.
    graph = AttackGraph(3, np.array([0, 1]), np.array([1, 2]), np.array([0.5, 0.4]))
    result = graph.top_paths_to_targets(np.array([0, 1, 1]), np.array([2, 2]), 5, 3)
    assert list(result) == [2]
    assert [(p.nodes, p.hops) for p in result[2]] == [((1, 2), 1), ((0, 1, 2), 2)]
    assert [p.probability for p in result[2]] == pytest.approx([0.4, 0.2])


def test_no_entry_points_gives_no_paths():
    graph = AttackGraph(2, np.array([0]), np.array([1]), np.array([0.5]))
    assert graph.top_paths_to_targets(np.array([], dtype=np.int64), np.array([1]), 3, 3) == {1: []}


def test_path_from_nodes():
    graph = AttackGraph(3, np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([0.2, 0.6, 0.5]))
    path = graph.path_from_nodes([0, 1, 2])
    assert path.edges == (1, 2) and path.probability == pytest.approx(0.3) and path.hops == 2
    with pytest.raises(ValueError, match="no usable edge"):
        graph.path_from_nodes([1, 0])
    with pytest.raises(ValueError, match="repeats"):
        graph.path_from_nodes([0, 1, 0])


@pytest.mark.parametrize("seed", range(20))
def test_best_path_probabilities_match_brute_force(seed):
    rng = np.random.default_rng(3000 + seed)
    num_nodes = int(rng.integers(4, 9))
    src, dst, prob = _random_graph(100 + seed, num_nodes, int(rng.integers(num_nodes, 4 * num_nodes)), seed % 2 == 0)
    sources = rng.choice(num_nodes, int(rng.integers(1, 3)), replace=False)
    for max_hops in (0, 1, 2, None):
        hops = num_nodes if max_hops is None else max_hops
        expected = np.array(
            [
                max(_brute_force(num_nodes, src, dst, prob, sources, v, hops).values(), default=0.0)
                for v in range(num_nodes)
            ]
        )
        got = best_path_probabilities(num_nodes, src, dst, prob, sources, max_hops)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_best_path_probabilities_hop_bound():
    # 0 -0.9-> 1 -0.9-> 2 and 0 -0.1-> 2: within one hop node 2 is reached with 0.1, within two with 0.81.
    graph = AttackGraph(4, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([0.9, 0.9, 0.1]))
    np.testing.assert_allclose(graph.best_path_probabilities(np.array([0]), 1), [1.0, 0.9, 0.1, 0.0])
    np.testing.assert_allclose(graph.best_path_probabilities(np.array([0]), 2), [1.0, 0.9, 0.81, 0.0])
    np.testing.assert_allclose(graph.best_path_probabilities(np.array([0]), None), [1.0, 0.9, 0.81, 0.0])
    np.testing.assert_array_equal(graph.best_path_probabilities(np.array([], dtype=np.int64), 2), np.zeros(4))


def test_larger_graph_agrees_with_single_target_runs():
    # A 2,000-node graph: the multi-source answer equals the best of per-entry-point answers, and the best path
    # probability equals best_path_probabilities at the target.
    rng = np.random.default_rng(7)
    num_nodes, num_edges = 2000, 8000
    src, dst = rng.integers(0, num_nodes, num_edges), rng.integers(0, num_nodes, num_edges)
    prob = rng.uniform(0.05, 1.0, num_edges)
    graph = AttackGraph(num_nodes, src, dst, prob)
    sources = rng.choice(num_nodes, 5, replace=False)
    targets = rng.choice(num_nodes, 4, replace=False)
    best = graph.best_path_probabilities(sources, 6)
    result = graph.top_paths_to_targets(sources, targets, 8, 6)
    for target in targets.tolist():
        merged = sorted(
            (p.probability for s in sources.tolist() for p in graph.k_best_paths(s, target, 8, 6)), reverse=True
        )[:8]
        assert [p.probability for p in result[target]] == pytest.approx(merged, rel=1e-9)
        if result[target]:
            assert result[target][0].probability == pytest.approx(best[target], rel=1e-9)
        else:
            assert best[target] == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, [0, 1], [1], [0.5, 0.5]), "same length"),
        ((3, [0], [1], [1.5]), r"\[0, 1\]"),
        ((3, [0], [1], [-0.1]), r"\[0, 1\]"),
        ((3, [0], [1], [float("nan")]), r"\[0, 1\]"),
        ((3, [0], [3], [0.5]), "outside"),
        ((3, [-1], [1], [0.5]), "outside"),
        ((3, [0.5], [1], [0.5]), "integer"),
        ((3, [[0]], [[1]], [[0.5]]), "1-D"),
        ((-1, [], [], []), "num_nodes"),
    ],
)
def test_bad_graph_input(args, message):
    num_nodes, src, dst, prob = args
    with pytest.raises(ValueError, match=message):
        AttackGraph(num_nodes, np.array(src), np.array(dst), np.array(prob))


def test_bad_rel_types_and_query_input():
    with pytest.raises(ValueError, match="rel_types"):
        AttackGraph(2, np.array([0]), np.array([1]), np.array([0.5]), rel_types=["A", "B"])
    graph = AttackGraph(2, np.array([0]), np.array([1]), np.array([0.5]))
    with pytest.raises(ValueError, match="k must be"):
        graph.k_best_paths(0, 1, 0, 3)
    with pytest.raises(ValueError, match="max_hops"):
        graph.k_best_paths(0, 1, 1, -1)
    with pytest.raises(ValueError, match="target"):
        graph.k_best_paths(0, 2, 1, 3)
    with pytest.raises(ValueError, match="source"):
        graph.k_best_paths(-1, 1, 1, 3)
    with pytest.raises(ValueError, match="targets"):
        graph.top_paths_to_targets(np.array([0]), np.array([5]), 1, 3)
    with pytest.raises(ValueError, match="sources"):
        graph.best_path_probabilities(np.array([9]), 2)
    with pytest.raises(ValueError, match="max_hops"):
        graph.best_path_probabilities(np.array([0]), -2)
