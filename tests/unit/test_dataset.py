"""AttackGraphData: what from_property_graph takes from a PropertyGraph, and what it refuses."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from gnn_neo4j.dataset import AttackGraphData, AttackGraphError, from_property_graph
from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.ground_truth import HIDDEN_PROPERTY_NAMES
from gnn_neo4j.mapping import load_mapping, parse_mapping
from gnn_neo4j.synthetic import SyntheticDataGenerator

MAPPING = load_mapping("canonical")


@pytest.fixture(scope="module")
def env():
    return SyntheticDataGenerator(11, size="small").generate_all()


def _tiny_mapping(**overrides):
    raw = {
        "name": "tiny",
        "key_label": "Asset",
        "node_labels": {
            "Host": {"features": {"os": {"type": "categorical", "values": ["linux", "windows"]},
                                  "patch_age_days": {"type": "numeric"}, "edr_enabled": {"type": "boolean"}}},
            "User": {"features": {"mfa_enabled": {"type": "boolean"}}},
        },
        "attack_relationships": {
            "CAN_REACH": {"prior": 0.2, "prior_source": "test", "features": {"port": {"type": "categorical"}}},
            "HAS_SESSION": {},
        },
        "entry_points": {"property": "internet_exposed", "equals": True},
        "crown_jewels": {"label": "CrownJewel"},
        "training_labels": {"property": "exploited"},
    }
    raw.update(overrides)
    return parse_mapping(raw, "test mapping")


def _tiny_graph(extra_nodes=(), extra_edges=()):
    hosts = NodeSet(("Asset", "Host"), ["h1", "h2", "h3"], {
        "os": np.array(["linux", None, "windows"], dtype=object),
        "patch_age_days": np.array([10.0, np.nan, 30.0]),
        "edr_enabled": np.array([True, False, None], dtype=object),
        "internet_exposed": np.array([True, False, False]),
        "secret_sauce": np.array([1, 2, 3]),
    })
    users = NodeSet(("Asset", "User", "CrownJewel"), ["u1"], {"mfa_enabled": np.array([False])})
    subnet = NodeSet(("Subnet",), ["s1"], {"cidr": np.array(["10.0.0.0/24"], dtype=object)})
    edges = [
        EdgeSet("CAN_REACH", "Asset", "Asset", ["h1", "h2"], ["h2", "h3"], {
            "port": np.array([445, 22]), "exploited": np.array([True, None], dtype=object),
            "gnn_feedback": np.array([None, False], dtype=object)}),
        EdgeSet("HAS_SESSION", "Asset", "Asset", ["h3"], ["u1"], {"exploited": np.array(["false"], dtype=object)}),
        EdgeSet("IN_SUBNET", "Asset", "Subnet", ["h1"], ["s1"]),
    ]
    return PropertyGraph(nodes=[hosts, users, subnet, *extra_nodes], edges=[*edges, *extra_edges])


def test_tiny_graph_is_read_exactly():
    data = from_property_graph(_tiny_graph(), _tiny_mapping())
    assert data.node_ids.tolist() == ["h1", "h2", "h3", "u1"]
    assert data.node_kind.tolist() == ["Host", "Host", "Host", "User"]
    assert data.edge_src.tolist() == [0, 1, 2]
    assert data.edge_dst.tolist() == [1, 2, 3]
    assert data.edge_type.tolist() == ["CAN_REACH", "CAN_REACH", "HAS_SESSION"]
    # exploited: True / missing / "false"; feedback only on the second edge
    np.testing.assert_array_equal(data.edge_label, [1.0, np.nan, 0.0])
    np.testing.assert_array_equal(data.edge_feedback, [np.nan, 0.0, np.nan])
    assert data.entry_mask.tolist() == [True, False, False, False]
    assert data.crown_mask.tolist() == [False, False, False, True]
    # mapped features only; a property a kind does not carry is missing for that kind
    assert set(data.node_props) == {"os", "patch_age_days", "edr_enabled", "mfa_enabled"}
    assert data.node_props["os"].tolist() == ["linux", None, "windows", None]
    np.testing.assert_array_equal(data.node_props["patch_age_days"], [10.0, np.nan, 30.0, np.nan])
    np.testing.assert_array_equal(data.node_props["edr_enabled"], [1.0, 0.0, np.nan, np.nan])
    np.testing.assert_array_equal(data.node_props["mfa_enabled"], [np.nan, np.nan, np.nan, 0.0])
    assert data.edge_props["port"].tolist() == ["445", "22", None]
    assert data.mapping == "tiny"
    assert data.prop_types == {"os": "categorical", "patch_age_days": "numeric", "edr_enabled": "boolean",
                               "mfa_enabled": "boolean"}
    assert data.categories["os"] == ("linux", "windows")
    assert data.labelled_mask.tolist() == [True, True, True]


def test_id_index():
    data = from_property_graph(_tiny_graph(), _tiny_mapping())
    assert data.id_index()["u1"] == 3
    assert data.id_index(["h3", "nope", "h1"]).tolist() == [2, -1, 0]


def test_unknown_kind_label_is_an_error():
    printer = NodeSet(("Asset", "Printer"), ["p1"], {})
    with pytest.raises(AttackGraphError, match="Printer"):
        from_property_graph(_tiny_graph(extra_nodes=[printer]), _tiny_mapping())


def test_missing_id_is_an_error():
    broken = NodeSet(("Asset", "User"), [None], {})
    with pytest.raises(AttackGraphError, match="no id"):
        from_property_graph(_tiny_graph(extra_nodes=[broken]), _tiny_mapping())


def test_duplicate_id_is_an_error():
    again = NodeSet(("Asset", "User"), ["h1"], {})
    with pytest.raises(AttackGraphError, match="duplicate"):
        from_property_graph(_tiny_graph(extra_nodes=[again]), _tiny_mapping())


def test_edges_to_unknown_nodes_are_an_error_or_dropped():
    dangling = EdgeSet("CAN_REACH", "Asset", "Asset", ["h1"], ["ghost"], {"port": np.array([80])})
    with pytest.raises(AttackGraphError, match="ghost"):
        from_property_graph(_tiny_graph(extra_edges=[dangling]), _tiny_mapping())
    data = from_property_graph(_tiny_graph(extra_edges=[dangling]), _tiny_mapping(), drop_dangling=True)
    assert data.num_edges == 3


def test_label_that_is_not_boolean_is_an_error():
    graph = _tiny_graph(extra_edges=[EdgeSet("HAS_SESSION", "Asset", "Asset", ["h1"], ["u1"],
                                             {"exploited": np.array(["maybe"], dtype=object)})])
    with pytest.raises(AttackGraphError, match="maybe"):
        from_property_graph(graph, _tiny_mapping())


def test_validate_against_mapping_names_unknown_kinds_and_types():
    data = from_property_graph(_tiny_graph(), _tiny_mapping())
    with pytest.raises(AttackGraphError, match="Host"):
        data.validate(replace(MAPPING, node_kinds=MAPPING.node_kinds[3:]))
    with pytest.raises(AttackGraphError, match="edge_dst points to unknown nodes"):
        AttackGraphData(node_ids=["a"], node_kind=["Host"], node_props={}, edge_src=[0], edge_dst=[5],
                        edge_type=["CAN_REACH"], edge_props={}, edge_label=[np.nan], edge_feedback=[np.nan],
                        entry_mask=[True], crown_mask=[False], mapping="tiny")
    with pytest.raises(AttackGraphError, match="edge_label"):
        AttackGraphData(node_ids=["a", "b"], node_kind=["Host", "Host"], node_props={}, edge_src=[0], edge_dst=[1],
                        edge_type=["CAN_REACH"], edge_props={}, edge_label=[0.3], edge_feedback=[np.nan],
                        entry_mask=[True, False], crown_mask=[False, False], mapping="tiny")


def test_synthetic_environment_matches_its_ground_truth(env):
    data = from_property_graph(env.graph, MAPPING)
    truth = env.ground_truth
    assert data.node_ids.tolist() == truth.node_ids.astype(str).tolist()
    assert set(data.node_kind.tolist()) <= set(MAPPING.labels)
    assert set(data.edge_type.tolist()) <= set(MAPPING.rel_types)
    assert data.num_edges == truth.num_edges
    # every edge exists in the truth, and the published labels are exactly the labelled outcomes
    probs = truth.exploit_probs(data.node_ids[data.edge_src], data.edge_type, data.node_ids[data.edge_dst])
    assert not np.isnan(probs).any()
    assert int((~np.isnan(data.edge_label)).sum()) == int(truth.edge_labelled.sum())
    assert set(data.entry_points.tolist()) == set(truth.entry_points.tolist())
    assert set(data.crown_jewels.tolist()) == set(truth.crown_jewels.tolist())


def test_dataset_never_holds_ground_truth(env):
    data = from_property_graph(env.graph, MAPPING)
    truth = env.ground_truth
    names = set(data.node_props) | set(data.edge_props)
    mapped = {f.name for k in MAPPING.node_kinds for f in k.features}
    mapped |= {f.name for r in MAPPING.attack_relationships for f in r.features}
    assert names <= mapped
    assert not names & HIDDEN_PROPERTY_NAMES
    assert not any("true_" in name or "prob" in name or "hardening" in name for name in names)
    # labels are 0/1 observations, never the hidden probabilities
    known = data.edge_label[~np.isnan(data.edge_label)]
    assert set(np.unique(known).tolist()) <= {0.0, 1.0}
    hidden = truth.edge_exploit_prob
    for column in data.edge_props.values():
        if column.dtype != object:
            assert not np.allclose(np.nan_to_num(column), hidden)
    for column in data.node_props.values():
        if column.dtype != object:
            assert not np.allclose(np.nan_to_num(column), truth.node_compromise_prob)
            assert not np.allclose(np.nan_to_num(column), truth.node_hardening)


def test_summary_counts(env):
    data = from_property_graph(env.graph, MAPPING)
    summary = data.summary()
    assert summary["nodes"] == data.num_nodes and summary["edges"] == data.num_edges
    assert summary["feedback_labels"] == 0
    assert summary["outcome_labels"] > 0
    assert not math.isnan(summary["entry_points"])
