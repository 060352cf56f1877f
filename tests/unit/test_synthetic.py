"""Synthetic environment generator: determinism, sizes, canonical schema, markers, labels and structure."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from scipy.sparse import csr_array

from gnn_neo4j.graph import PropertyGraph
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.synthetic import (
    CONTEXT_LABELS,
    CONTEXT_REL_TYPES,
    KEY_LABEL,
    KIND_TYPES,
    LABEL_PROPERTY,
    GeneratorConfig,
    SyntheticDataGenerator,
    generate_splits,
    graph_fingerprint,
)

# Which kinds each attack relationship may connect (the canonical schema in canonical.yaml).
ALLOWED_ENDPOINTS = {
    "CAN_REACH": ({"LoadBalancer", "Host"}, {"Host", "DataStore", "Container"}),
    "HOSTS": ({"Host"}, {"Container"}),
    "ESCAPES_TO": ({"Container"}, {"Host"}),
    "HAS_SESSION": ({"Host"}, {"User", "ServiceAccount"}),
    "STORES_CREDENTIAL": ({"Host", "Container"}, {"User", "ServiceAccount"}),
    "MEMBER_OF": ({"User", "ServiceAccount"}, {"Group"}),
    "ADMIN_TO": ({"User", "Group"}, {"Host"}),
    "CAN_ASSUME": ({"User", "ServiceAccount", "Role"}, {"Role"}),
    "CAN_ACCESS": ({"Role", "Group", "ServiceAccount"}, {"DataStore", "Secret"}),
}
NO_SIMULATION = GeneratorConfig(simulate=False)


@pytest.fixture(scope="module")
def small():
    return SyntheticDataGenerator(seed=11, size="small").generate_all()


@pytest.fixture(scope="module")
def medium():
    return SyntheticDataGenerator(seed=5, size="medium").generate_all()


@pytest.fixture(scope="module")
def canonical():
    return load_mapping("canonical")


def _asset_sets(graph: PropertyGraph):
    return {node_set.labels[1]: node_set for node_set in graph.nodes if node_set.key_label == KEY_LABEL}


def _marked_ids(graph: PropertyGraph, prop: str) -> set[str]:
    marked = set()
    for node_set in graph.nodes:
        if prop in node_set.properties:
            column = node_set.properties[prop]
            marked.update(node_set.ids[np.array([v is True or v is np.True_ for v in column.tolist()], dtype=bool)])
    return marked


# -- determinism -------------------------------------------------------------------------------------------------


def test_same_seed_and_size_give_byte_identical_output():
    first = SyntheticDataGenerator(seed=42, size="small").generate_all()
    second = SyntheticDataGenerator(seed=42, size="small").generate_all()
    assert graph_fingerprint(first.graph) == graph_fingerprint(second.graph)
    assert hashlib.sha256(first.ground_truth.to_bytes()).hexdigest() == \
        hashlib.sha256(second.ground_truth.to_bytes()).hexdigest()
    assert first.metadata == second.metadata


def test_different_seeds_give_different_graphs():
    first = SyntheticDataGenerator(seed=1, size="small", config=NO_SIMULATION).generate_all()
    second = SyntheticDataGenerator(seed=2, size="small", config=NO_SIMULATION).generate_all()
    assert graph_fingerprint(first.graph) != graph_fingerprint(second.graph)


def test_fingerprint_sees_a_single_changed_value(small):
    before = graph_fingerprint(small.graph)
    column = small.graph.nodes[1].properties["patch_age_days"]
    saved = column[0]
    column[0] = 12345.0
    try:
        assert graph_fingerprint(small.graph) != before
    finally:
        column[0] = saved
    assert graph_fingerprint(small.graph) == before


# -- sizes -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, low, high", [("small", 300, 500), ("medium", 5_000, 10_000), ("large", 90_000, 110_000)])
def test_named_sizes(size, low, high):
    env = SyntheticDataGenerator(seed=3, size=size, config=NO_SIMULATION).generate_all()
    assert low <= env.graph.node_count <= high
    assert env.metadata["node_count"] == env.graph.node_count
    assert env.metadata["size"] == size


@pytest.mark.parametrize("assets", [60, 2_000, 25_000])
def test_assets_targets_total_node_count(assets):
    env = SyntheticDataGenerator(seed=9, assets=assets, config=NO_SIMULATION).generate_all()
    assert abs(env.graph.node_count - assets) <= max(0.05 * assets, 25)
    env.graph.validate()


def test_default_size_is_small():
    assert SyntheticDataGenerator(seed=0).target_nodes == SyntheticDataGenerator(seed=0, size="small").target_nodes


@pytest.mark.parametrize("kwargs", [
    {"size": "huge"}, {"assets": 10}, {"assets": 1_000_001}, {"size": "small", "assets": 500},
    {"label_share": 1.5}, {"label_share": -0.1},
])
def test_invalid_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        SyntheticDataGenerator(seed=0, **kwargs)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_invalid_seed_is_rejected(seed):
    with pytest.raises(ValueError):
        SyntheticDataGenerator(seed=seed)


# -- schema ------------------------------------------------------------------------------------------------------


def test_graph_validates(small, medium):
    small.graph.validate()
    medium.graph.validate()


def test_asset_kinds_and_features_match_canonical_mapping(medium, canonical):
    assets = _asset_sets(medium.graph)
    assert set(assets) == set(canonical.labels)
    for label, node_set in assets.items():
        assert node_set.labels == (canonical.key_label, label)
        kind = canonical.node_kind(label)
        expected = {f.name for f in kind.features} | {"type", "name"}
        assert set(node_set.properties) == expected, label
        assert set(node_set.properties["type"].tolist()) == {KIND_TYPES[label]}
        for feature in kind.features:
            values = [v for v in node_set.properties[feature.name].tolist()
                      if v is not None and not (isinstance(v, float) and np.isnan(v))]
            assert len(node_set) - len(values) <= 0.1 * len(node_set) + 5, f"{label}.{feature.name} mostly missing"
            if feature.type == "boolean":
                assert all(isinstance(v, bool) for v in values), f"{label}.{feature.name}"
            elif feature.type == "numeric":
                assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            else:
                assert set(map(str, values)) <= set(feature.values), f"{label}.{feature.name}"


def test_every_mapping_feature_varies(medium, canonical):
    assets = _asset_sets(medium.graph)
    for kind in canonical.node_kinds:
        for feature in kind.features:
            column = assets[kind.label].properties[feature.name]
            distinct = {v for v in column.tolist() if v is not None and not (isinstance(v, float) and np.isnan(v))}
            assert len(distinct) >= 2, f"{kind.label}.{feature.name} is constant"


def test_some_optional_features_are_missing(medium):
    assets = _asset_sets(medium.graph)
    patch_age = assets["Host"].properties["patch_age_days"]
    mfa = assets["User"].properties["mfa_enabled"]
    assert 0 < np.isnan(patch_age).sum() < 0.1 * len(patch_age)
    assert 0 < sum(v is None for v in mfa.tolist()) < 0.1 * len(mfa)
    # Markers are never missing.
    for node_set in assets.values():
        for marker in ("internet_exposed", "critical"):
            if marker in node_set.properties:
                assert node_set.properties[marker].dtype == bool


def test_relationship_types_and_edge_features_match_canonical_mapping(medium, canonical):
    attack = {e.rel_type: e for e in medium.graph.edges if e.rel_type in canonical.rel_types}
    context = {e.rel_type: e for e in medium.graph.edges if e.rel_type not in canonical.rel_types}
    assert set(attack) == set(canonical.rel_types)
    assert set(context) == set(CONTEXT_REL_TYPES)
    for rel_type, edge_set in attack.items():
        assert (edge_set.src_label, edge_set.dst_label) == (canonical.key_label, canonical.key_label)
        rel = canonical.attack_relationship(rel_type)
        assert set(edge_set.properties) == {f.name for f in rel.features} | {canonical.label_property}
        for feature in rel.features:
            values = edge_set.properties[feature.name].tolist()
            if feature.type == "categorical":
                assert set(map(str, values)) <= set(feature.values), rel_type
            else:
                assert all(isinstance(v, bool) for v in values)
    for edge_set in context.values():
        assert LABEL_PROPERTY not in edge_set.properties


def test_context_labels_and_relationships(medium):
    context_sets = {n.key_label: n for n in medium.graph.nodes if n.key_label != KEY_LABEL}
    assert set(context_sets) == set(CONTEXT_LABELS)
    assert all(len(n.labels) == 1 for n in context_sets.values())
    vulns = context_sets["Vulnerability"]
    ids = vulns.ids.tolist()
    assert all(re.fullmatch(r"CVE-20[0-2]\d-\d{5}", i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == vulns.properties["cve"].tolist()
    assert ((vulns.properties["cvss"] >= 0) & (vulns.properties["cvss"] <= 10)).all()
    assert ((vulns.properties["epss"] >= 0) & (vulns.properties["epss"] <= 1)).all()
    assert vulns.properties["exploit_available"].dtype == bool
    assert 0 < vulns.properties["exploit_available"].mean() < 0.5
    ends = {e.rel_type: (e.src_label, e.dst_label) for e in medium.graph.edges if e.rel_type in CONTEXT_REL_TYPES}
    assert ends == {"IN_SUBNET": ("Asset", "Subnet"), "PROTECTED_BY": ("Asset", "SecurityGroup"),
                    "RUNS": ("Asset", "Software"), "HAS_VULNERABILITY": ("Software", "Vulnerability")}


def test_attack_edges_connect_the_documented_kinds(medium):
    kind_of = {}
    for label, node_set in _asset_sets(medium.graph).items():
        kind_of.update(dict.fromkeys(node_set.ids.tolist(), label))
    for edge_set in medium.graph.edges:
        if edge_set.rel_type not in ALLOWED_ENDPOINTS:
            continue
        sources, targets = ALLOWED_ENDPOINTS[edge_set.rel_type]
        src_kinds = {kind_of[i] for i in edge_set.src.tolist()}
        dst_kinds = {kind_of[i] for i in edge_set.dst.tolist()}
        assert src_kinds <= sources, edge_set.rel_type
        assert dst_kinds <= targets, edge_set.rel_type
        pairs = list(zip(edge_set.src.tolist(), edge_set.dst.tolist()))
        assert len(set(pairs)) == len(pairs), f"parallel {edge_set.rel_type} edges"
        assert all(s != d for s, d in pairs)


def test_vulnerability_features_are_denormalised_from_software(small):
    graph = small.graph
    runs = next(e for e in graph.edges if e.rel_type == "RUNS")
    has_vuln = next(e for e in graph.edges if e.rel_type == "HAS_VULNERABILITY")
    vulns = next(n for n in graph.nodes if n.key_label == "Vulnerability")
    cvss = dict(zip(vulns.ids.tolist(), vulns.properties["cvss"].tolist()))
    software_vulns: dict[str, list[str]] = {}
    for sw, cve in zip(has_vuln.src.tolist(), has_vuln.dst.tolist()):
        software_vulns.setdefault(sw, []).append(cve)
    asset_vulns: dict[str, list[str]] = {}
    for asset, sw in zip(runs.src.tolist(), runs.dst.tolist()):
        asset_vulns.setdefault(asset, []).extend(software_vulns.get(sw, []))
    hosts = _asset_sets(graph)["Host"]
    for node_id, count, max_cvss in zip(hosts.ids.tolist(), hosts.properties["vuln_count"].tolist(),
                                        hosts.properties["max_cvss"].tolist()):
        found = asset_vulns.get(node_id, [])
        assert count == len(found)
        assert max_cvss == pytest.approx(max((cvss[c] for c in found), default=0.0))


# -- markers, labels, structure ----------------------------------------------------------------------------------


def test_entry_points_and_crown_jewels(medium, canonical):
    graph, truth = medium.graph, medium.ground_truth
    entries = _marked_ids(graph, canonical.entry_points.property)
    jewels = _marked_ids(graph, canonical.crown_jewels.property)
    assert entries == set(truth.entry_point_ids.tolist())
    assert jewels == set(truth.crown_jewel_ids.tolist())
    entry_kinds = set(truth.node_kinds[truth.entry_points].tolist())
    jewel_kinds = set(truth.node_kinds[truth.crown_jewels].tolist())
    assert entry_kinds == {"LoadBalancer", "Host"}
    assert jewel_kinds == {"DataStore", "Secret", "Role", "Host"}
    assert 10 <= len(entries) <= 0.02 * graph.node_count
    assert 20 <= len(jewels) <= 0.05 * graph.node_count


def test_small_environment_has_entry_points_and_crown_jewels():
    for seed in range(5):
        truth = SyntheticDataGenerator(seed=seed, size="small", config=NO_SIMULATION).generate_all().ground_truth
        assert len(truth.entry_points) >= 1
        assert len(truth.crown_jewels) >= 3


def test_crown_jewels_reachable_within_eight_hops(medium):
    truth = medium.ground_truth
    n = truth.num_nodes
    adjacency = csr_array((np.ones(truth.num_edges), (truth.edge_src, truth.edge_dst)), shape=(n, n))
    reached = np.zeros(n, dtype=bool)
    reached[truth.entry_points] = True
    for _ in range(8):
        reached |= (adjacency.T @ reached.astype(np.float64)) > 0
    assert reached[truth.crown_jewels].mean() >= 0.9


def test_compromise_is_uncertain_not_saturated(medium):
    truth = medium.ground_truth
    jewel_risk = truth.node_compromise_prob[truth.crown_jewels]
    assert np.quantile(jewel_risk, 0.1) < 0.5 < np.quantile(jewel_risk, 0.9)
    non_entry = np.setdiff1d(np.arange(truth.num_nodes), truth.entry_points)
    assert (truth.node_compromise_prob[non_entry] > 0.99).mean() < 0.25
    assert (truth.node_compromise_prob[non_entry] < 0.2).mean() > 0.1
    assert 0.05 < truth.edge_exploit_prob.mean() < 0.8


@pytest.mark.parametrize("share", [0.0, 0.3, 1.0])
def test_label_share(share):
    env = SyntheticDataGenerator(seed=4, size="small", label_share=share, config=NO_SIMULATION).generate_all()
    attack = [e for e in env.graph.edges if LABEL_PROPERTY in e.properties]
    total = sum(len(e) for e in attack)
    labelled = [v for e in attack for v in e.properties[LABEL_PROPERTY].tolist() if v is not None]
    assert total == env.ground_truth.num_edges
    assert len(labelled) == round(share * total)
    assert all(isinstance(v, bool) for v in labelled)
    assert env.ground_truth.edge_labelled.sum() == len(labelled)


def test_labels_follow_the_hidden_probabilities(medium):
    truth = medium.ground_truth
    labelled = truth.edge_labelled
    rate = truth.edge_outcome[labelled].mean()
    expected = truth.edge_exploit_prob[labelled].mean()
    se = np.sqrt(expected * (1 - expected) / labelled.sum())
    assert abs(rate - expected) < 5 * se
    # Graph labels are exactly the published outcomes, aligned by (src, rel, dst).
    for edge_set in medium.graph.edges:
        if LABEL_PROPERTY not in edge_set.properties:
            continue
        column = edge_set.properties[LABEL_PROPERTY]
        has = np.array([v is not None for v in column.tolist()])
        probs = truth.exploit_probs(edge_set.src[has], [edge_set.rel_type] * has.sum(), edge_set.dst[has])
        assert not np.isnan(probs).any()
        high = np.array(column[has].tolist(), dtype=bool)
        if has.sum() > 100 and 0 < high.mean() < 1:
            assert probs[high].mean() > probs[~high].mean(), edge_set.rel_type


def test_generate_splits_are_independent_graphs():
    train, validation, test = generate_splits(seeds=(10, 20, 30), size="small")
    prints = {graph_fingerprint(env.graph) for env in (train, validation, test)}
    assert len(prints) == 3
    assert [env.metadata["seed"] for env in (train, validation, test)] == [10, 20, 30]
    assert all(env.ground_truth.simulated for env in (train, validation, test))
    with pytest.raises(ValueError):
        generate_splits(seeds=(1, 1, 2), size="small")


def test_metadata_is_plain_and_deterministic(small):
    meta = small.metadata
    assert meta["seed"] == 11 and meta["size"] == "small" and meta["mapping"] == "canonical"
    assert meta["counts"] == small.graph.counts()
    assert meta["attack_edge_count"] == small.ground_truth.num_edges
    assert small.ground_truth.metadata == meta
