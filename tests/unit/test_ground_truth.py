"""Hidden ground truth: separation from the graph, the true edge model, Monte Carlo vs exact, paths, persistence."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from gnn_neo4j.ground_truth import (
    ASSET_KINDS,
    ATTACK_REL_TYPES,
    CREDENTIAL_TYPES,
    EDGE_COLUMNS,
    HIDDEN_PROPERTY_NAMES,
    NODE_COLUMNS,
    OS_VALUES,
    PERMISSIONS,
    GroundTruth,
    compromise_probability_exact,
    exploit_probability,
    sample_outcomes,
    simulate_compromise,
)
from gnn_neo4j.paths import AttackGraph
from gnn_neo4j.synthetic import LABEL_PROPERTY, GeneratorConfig, SyntheticDataGenerator


@pytest.fixture(scope="module")
def env():
    return SyntheticDataGenerator(seed=21, size="small").generate_all()


# -- separation --------------------------------------------------------------------------------------------------


def test_graph_carries_no_hidden_property_names(env):
    names = set()
    for node_set in env.graph.nodes:
        names.update(node_set.properties)
    for edge_set in env.graph.edges:
        names.update(edge_set.properties)
    assert not {n for n in names if "true_" in n.lower()}
    assert not names & HIDDEN_PROPERTY_NAMES
    assert not {n for n in names if n.startswith("gnn_")}


def test_graph_values_do_not_reveal_true_probabilities(env):
    truth = env.ground_truth
    for edge_set in env.graph.edges:
        if LABEL_PROPERTY not in edge_set.properties:
            continue
        probs = truth.exploit_probs(edge_set.src, [edge_set.rel_type] * len(edge_set), edge_set.dst)
        assert not np.isnan(probs).any()
        for name, column in edge_set.properties.items():
            try:
                values = np.asarray(column, dtype=np.float64)
            except (TypeError, ValueError):
                continue
            assert not np.allclose(values, probs, atol=1e-6), f"{edge_set.rel_type}.{name} equals the true probability"
    # Entry points are compromised by definition (risk 1 = internet_exposed true); compare on the other nodes.
    index = {node_id: i for i, node_id in enumerate(truth.node_ids.tolist())}
    entry = set(truth.entry_points.tolist())
    for node_set in env.graph.nodes:
        if node_set.key_label != "Asset":
            continue
        rows = np.array([index[i] for i in node_set.ids.tolist()])
        keep = np.array([r not in entry for r in rows.tolist()])
        if keep.sum() < 2:
            continue
        risk = truth.node_compromise_prob[rows][keep]
        hardening = truth.node_hardening[rows][keep]
        for name, column in node_set.properties.items():
            try:
                values = np.asarray(column, dtype=np.float64)[keep]
            except (TypeError, ValueError):
                continue
            assert not np.allclose(values, risk, atol=1e-6), f"{node_set.labels[1]}.{name}"
            assert not np.allclose(values, hardening, atol=1e-6), f"{node_set.labels[1]}.{name}"


def test_ground_truth_aligns_with_graph_edges(env):
    truth = env.ground_truth
    graph_edges = {(s, e.rel_type, d) for e in env.graph.edges if LABEL_PROPERTY in e.properties
                   for s, d in zip(e.src.tolist(), e.dst.tolist())}
    truth_edges = set(zip(truth.edge_src_ids.tolist(), truth.edge_rel_types.tolist(), truth.edge_dst_ids.tolist()))
    assert graph_edges == truth_edges
    assert len(truth_edges) == truth.num_edges
    e = 7
    src, rel, dst = truth.edge_src_ids[e], truth.edge_rel_types[e], truth.edge_dst_ids[e]
    assert truth.exploit_prob(src, rel, dst) == truth.edge_exploit_prob[e]
    with pytest.raises(KeyError):
        truth.exploit_prob(dst, "NOT_A_TYPE", src)
    assert np.isnan(truth.exploit_probs(["nobody"], ["CAN_REACH"], [dst])).all()
    assert truth.node_index([truth.node_ids[3], "nobody"]).tolist() == [3, -1]
    assert truth.compromise_probs([truth.node_ids[3]])[0] == truth.node_compromise_prob[3]


# -- the hidden edge model ---------------------------------------------------------------------------------------


def _tiny_world(num_nodes: int = 4) -> dict[str, np.ndarray]:
    node = {name: np.full(num_nodes, np.nan) for name in NODE_COLUMNS}
    node["hardening"] = np.zeros(num_nodes)
    return node


def _edge(**values) -> dict[str, np.ndarray]:
    return {name: np.array([values.get(name, -1)]) for name in EDGE_COLUMNS}


def _reach_prob(epss: float, edr: float, port: int = 443, waf: float = 0.0) -> float:
    node = _tiny_world(2)
    node["kind"][:] = [ASSET_KINDS.index("LoadBalancer"), ASSET_KINDS.index("Host")]
    node["waf_enabled"][0] = waf
    node["epss_max"][1], node["edr_enabled"][1] = epss, edr
    node["max_cvss"][1], node["exploit_available"][1], node["patch_age_days"][1] = 9.0, 1.0, 30.0
    rel = np.array([ATTACK_REL_TYPES.index("CAN_REACH")])
    return float(exploit_probability(rel, np.array([0]), np.array([1]), node, _edge(port=port))[0])


def test_true_probability_depends_on_target_neighbour_and_edge_properties():
    base = _reach_prob(epss=0.5, edr=0.0)
    assert _reach_prob(epss=0.01, edr=0.0) < base - 0.1          # target's exploitability
    assert _reach_prob(epss=0.5, edr=1.0) < base - 0.1           # target's EDR
    assert _reach_prob(epss=0.5, edr=0.0, waf=1.0) < base - 0.1  # source's WAF (web port)
    assert _reach_prob(epss=0.5, edr=0.0, port=445) > base + 0.05  # the edge's own port
    assert _reach_prob(epss=0.5, edr=0.0, port=22, waf=1.0) == pytest.approx(_reach_prob(epss=0.5, edr=0.0, port=22))


def test_true_probability_is_nonlinear_in_its_inputs():
    # The EDR effect depends on how exploitable the target is (an interaction, not an additive term), and in
    # probability space too, not only in logit space.
    def logit(p):
        q = (p - 0.01) / 0.98
        return math.log(q / (1 - q))

    edr_effect_exploitable = logit(_reach_prob(0.9, 1.0)) - logit(_reach_prob(0.9, 0.0))
    edr_effect_hardened = logit(_reach_prob(0.0, 1.0)) - logit(_reach_prob(0.0, 0.0))
    assert abs(edr_effect_exploitable - edr_effect_hardened) > 0.5


def test_true_probability_uses_identity_and_degree_context():
    node = _tiny_world(5)
    node["kind"][:] = [ASSET_KINDS.index(k) for k in ("Host", "User", "User", "Group", "Host")]
    node["os"][[0, 4]] = OS_VALUES.index("windows")
    node["edr_enabled"][[0, 4]] = 0.0
    node["critical"][4] = 0.0
    node["mfa_enabled"][1:3] = [0.0, 1.0]
    node["privileged"][1:4] = [0.0, 0.0, 1.0]
    rel = np.array([ATTACK_REL_TYPES.index(r) for r in ("HAS_SESSION", "HAS_SESSION", "MEMBER_OF", "MEMBER_OF",
                                                         "ADMIN_TO")])
    src, dst = np.array([0, 0, 1, 2, 1]), np.array([1, 2, 3, 3, 4])
    edge = {name: np.full(5, -1) for name in EDGE_COLUMNS}
    edge["session_type"][:2] = 0
    p = exploit_probability(rel, src, dst, node, edge)
    assert p[1] < p[0] - 0.2      # MFA on the session's identity
    assert p[3] < p[2] - 0.05     # privileged group with an MFA user (PAM step-up): the pair matters
    # ADMIN_TO from a user that admins many hosts is less likely per edge (out-degree context).
    more_src = np.concatenate([src, np.full(6, 1)])
    more_dst = np.concatenate([dst, np.full(6, 0)])
    more_rel = np.concatenate([rel, np.full(6, ATTACK_REL_TYPES.index("ADMIN_TO"))])
    more_edge = {name: np.concatenate([column, np.full(6, -1)]) for name, column in edge.items()}
    assert exploit_probability(more_rel, more_src, more_dst, node, more_edge)[4] < p[4]


def test_true_probability_edge_properties_of_identity_edges():
    node = _tiny_world(2)
    node["kind"][:] = [ASSET_KINDS.index("Role"), ASSET_KINDS.index("DataStore")]
    node["encrypted"][1] = 1.0
    node["critical"][1] = 0.0
    rel = np.array([ATTACK_REL_TYPES.index("CAN_ACCESS")] * 2)
    edge = {name: np.full(2, -1) for name in EDGE_COLUMNS}
    edge["permission"][:] = [PERMISSIONS.index("read"), PERMISSIONS.index("admin")]
    p = exploit_probability(rel, np.array([0, 0]), np.array([1, 1]), node, edge)
    assert p[0] < p[1] - 0.2
    node = _tiny_world(2)
    node["kind"][:] = [ASSET_KINDS.index("Host"), ASSET_KINDS.index("User")]
    node["mfa_enabled"][1] = 1.0
    rel = np.array([ATTACK_REL_TYPES.index("STORES_CREDENTIAL")] * 2)
    edge = {name: np.full(2, -1) for name in EDGE_COLUMNS}
    edge["credential_type"][:] = [CREDENTIAL_TYPES.index("password"), CREDENTIAL_TYPES.index("api_key")]
    p = exploit_probability(rel, np.array([0, 0]), np.array([1, 1]), node, edge)
    assert p[0] < p[1] - 0.3


def test_true_probabilities_are_bounded_and_varied(env):
    p = env.ground_truth.edge_exploit_prob
    assert p.min() >= 0.01 and p.max() <= 0.99
    for code, rel_type in enumerate(ATTACK_REL_TYPES):
        values = p[env.ground_truth.edge_rel == code]
        assert len(values), rel_type
    assert np.std(p) > 0.2


def test_unknown_relationship_code_is_rejected():
    node = _tiny_world(2)
    node["kind"][:] = 1
    with pytest.raises(ValueError):
        exploit_probability(np.array([len(ATTACK_REL_TYPES)]), np.array([0]), np.array([1]), node, _edge())


def test_sample_outcomes_share_and_rate():
    rng = np.random.default_rng(0)
    prob = np.full(20_000, 0.3)
    outcome, labelled = sample_outcomes(prob, 0.25, rng)
    assert labelled.sum() == 5_000
    assert abs(outcome.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 20_000)
    with pytest.raises(ValueError):
        sample_outcomes(prob, 1.2, rng)


# -- node compromise: Monte Carlo vs exact -----------------------------------------------------------------------


def _tiny_graph():
    # 8 nodes, 14 edges: two entry points, a cycle (2 <-> 3), parallel routes, a dead end, an unreachable node 7.
    src = np.array([0, 0, 1, 2, 3, 2, 1, 4, 5, 3, 4, 6, 5, 7])
    dst = np.array([2, 1, 3, 3, 2, 4, 4, 5, 6, 6, 6, 5, 0, 6])
    prob = np.array([0.6, 0.3, 0.8, 0.5, 0.4, 0.7, 0.2, 0.9, 0.35, 0.45, 0.15, 0.55, 0.25, 0.95])
    return 8, src, dst, prob, np.array([0, 1])


def test_monte_carlo_agrees_with_exact_enumeration():
    num_nodes, src, dst, prob, sources = _tiny_graph()
    exact = compromise_probability_exact(num_nodes, src, dst, prob, sources)
    trials = 20_000
    estimate, stderr = simulate_compromise(num_nodes, src, dst, prob, sources, n_trials=trials, seed=3,
                                           batch_trials=1000)
    exact_se = np.sqrt(exact * (1 - exact) / trials)
    assert np.all(np.abs(estimate - exact) <= 4 * exact_se + 1e-12)
    assert np.allclose(stderr, np.sqrt(estimate * (1 - estimate) / trials))
    assert exact[0] == exact[1] == 1.0
    assert exact[7] == 0.0 and estimate[7] == 0.0
    assert 0.0 < exact[6] < 1.0


def test_exact_enumeration_matches_hand_computation():
    # 0 -> 1 (0.5), 0 -> 2 (0.5), 1 -> 3 (0.5), 2 -> 3 (0.5): P(3) = 1 - (1 - 0.25)^2.
    exact = compromise_probability_exact(4, np.array([0, 0, 1, 2]), np.array([1, 2, 3, 3]), np.full(4, 0.5),
                                         np.array([0]))
    assert exact.tolist() == pytest.approx([1.0, 0.5, 0.5, 1 - 0.75 ** 2])


def test_exact_enumeration_refuses_large_graphs():
    with pytest.raises(ValueError):
        compromise_probability_exact(3, np.zeros(17, int), np.ones(17, int), np.full(17, 0.5), np.array([0]))


def test_monte_carlo_is_seeded_and_handles_odd_trial_counts():
    num_nodes, src, dst, prob, sources = _tiny_graph()
    a = simulate_compromise(num_nodes, src, dst, prob, sources, n_trials=100, seed=9, batch_trials=70)
    b = simulate_compromise(num_nodes, src, dst, prob, sources, n_trials=100, seed=9, batch_trials=70)
    assert np.array_equal(a[0], b[0])
    assert a[0][0] == 1.0 and a[0][7] == 0.0
    assert set(np.round(a[0] * 100, 9)) <= set(range(101))


def test_environment_compromise_probabilities(env):
    truth = env.ground_truth
    assert truth.simulated and truth.n_trials == 1024
    assert np.all(truth.node_compromise_prob[truth.entry_points] == 1.0)
    assert np.all((truth.node_compromise_prob >= 0) & (truth.node_compromise_prob <= 1))
    assert np.all(truth.node_compromise_stderr <= 0.5 / math.sqrt(truth.n_trials) + 1e-12)
    # No incoming attack edge and not an entry point: never compromised.
    isolated = np.setdiff1d(np.setdiff1d(np.arange(truth.num_nodes), truth.edge_dst), truth.entry_points)
    assert np.all(truth.node_compromise_prob[isolated] == 0.0)


def test_monte_carlo_on_generated_environment_agrees_with_exact_on_a_subgraph(env):
    truth = env.ground_truth
    # A crown jewel's 2-hop in-neighbourhood, cut to at most 16 edges, from its own entry points.
    jewel = truth.crown_jewels[0]
    into = np.flatnonzero(truth.edge_dst == jewel)[:4]
    second = np.flatnonzero(np.isin(truth.edge_dst, truth.edge_src[into]))[:12]
    edges = np.union1d(into, second)
    nodes, local = np.unique(np.concatenate([truth.edge_src[edges], truth.edge_dst[edges]]), return_inverse=True)
    src, dst = local[: len(edges)], local[len(edges):]
    sources = np.flatnonzero(~np.isin(nodes, truth.edge_dst[edges]))
    prob = truth.edge_exploit_prob[edges]
    exact = compromise_probability_exact(len(nodes), src, dst, prob, sources)
    estimate, _ = simulate_compromise(len(nodes), src, dst, prob, sources, n_trials=8_192, seed=1)
    assert np.all(np.abs(estimate - exact) <= 4 * np.sqrt(exact * (1 - exact) / 8_192) + 1e-12)


# -- true top-K paths --------------------------------------------------------------------------------------------


def test_true_top_paths_are_exact_and_consistent(env):
    truth = env.ground_truth
    assert set(truth.top_paths) == set(truth.crown_jewel_ids.tolist())
    entries = set(truth.entry_point_ids.tolist())
    checked = 0
    for jewel, paths in truth.top_paths.items():
        assert len(paths) <= truth.top_k
        probs = [p.probability for p in paths]
        assert probs == sorted(probs, reverse=True)
        for path in paths:
            assert path.node_ids[0] in entries and path.node_ids[-1] == jewel
            assert path.hops == len(path.rel_types) == len(path.node_ids) - 1 <= truth.max_hops
            assert len(set(path.node_ids)) == len(path.node_ids)
            hop_probs = truth.exploit_probs(path.node_ids[:-1], path.rel_types, path.node_ids[1:])
            assert path.probability == pytest.approx(float(np.prod(hop_probs)), rel=1e-12)
            checked += 1
    assert checked >= len(truth.top_paths)
    # The best path per crown jewel is the max-product path within the hop bound.
    graph = AttackGraph(truth.num_nodes, truth.edge_src, truth.edge_dst, truth.edge_exploit_prob)
    best = graph.best_path_probabilities(truth.entry_points, max_hops=truth.max_hops)
    for jewel, paths in truth.top_paths.items():
        index = truth.node_index([jewel])[0]
        if paths:
            assert paths[0].probability == pytest.approx(best[index], rel=1e-9)
        else:
            assert best[index] == 0.0


def test_generation_without_simulation_skips_only_the_expensive_parts():
    truth = SyntheticDataGenerator(seed=21, size="small", config=GeneratorConfig(simulate=False)) \
        .generate_all().ground_truth
    assert not truth.simulated and truth.n_trials == 0 and truth.top_paths == {}
    assert np.isnan(truth.node_compromise_prob).all()
    assert not np.isnan(truth.edge_exploit_prob).any()


# -- persistence -------------------------------------------------------------------------------------------------


def test_save_and_load_round_trip(env, tmp_path):
    truth = env.ground_truth
    npz_path, json_path = truth.save(tmp_path / "truth" / "small-21")
    assert npz_path.name == "small-21.npz" and json_path.name == "small-21.json"
    with np.load(npz_path, allow_pickle=False) as archive:
        assert archive["edge_exploit_prob"].dtype == np.float64
    loaded = GroundTruth.load(tmp_path / "truth" / "small-21.npz")
    for name in ("edge_src", "edge_dst", "edge_rel", "edge_exploit_prob", "edge_outcome", "edge_labelled",
                 "entry_points", "crown_jewels", "node_hardening", "node_compromise_prob", "node_compromise_stderr"):
        assert np.array_equal(getattr(loaded, name), getattr(truth, name)), name
    assert loaded.node_ids.tolist() == truth.node_ids.tolist()
    assert loaded.node_kinds.tolist() == truth.node_kinds.tolist()
    assert loaded.rel_types == truth.rel_types
    assert loaded.top_paths == truth.top_paths
    assert (loaded.n_trials, loaded.top_k, loaded.max_hops) == (truth.n_trials, truth.top_k, truth.max_hops)
    assert loaded.metadata == truth.metadata
    assert loaded.to_bytes() == truth.to_bytes()


def test_saved_files_are_byte_identical_for_the_same_seed(tmp_path):
    digests = []
    for run in range(2):
        truth = SyntheticDataGenerator(seed=8, size="small").generate_all().ground_truth
        npz_path, json_path = truth.save(tmp_path / f"run{run}")
        digests.append((hashlib.sha256(npz_path.read_bytes()).hexdigest(),
                        hashlib.sha256(json_path.read_bytes()).hexdigest()))
    assert digests[0] == digests[1]


def test_load_rejects_foreign_files(tmp_path):
    (tmp_path / "x.json").write_text('{"format": "something-else"}')
    (tmp_path / "x.npz").write_bytes(b"")
    with pytest.raises(ValueError):
        GroundTruth.load(tmp_path / "x")
    with pytest.raises(FileNotFoundError):
        GroundTruth.load(tmp_path / "missing")
