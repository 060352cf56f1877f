"""FeatureSpec: hand-checked encodings, fitting on training data only, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.features import UNKNOWN, FeatureSpec
from gnn_neo4j.mapping import load_mapping, parse_mapping
from gnn_neo4j.synthetic import SyntheticDataGenerator

MAPPING = parse_mapping({
    "name": "tiny",
    "node_labels": {
        "Host": {"features": {"os": {"type": "categorical", "values": ["linux", "windows"]},
                              "age": {"type": "numeric"}, "edr": {"type": "boolean"}}},
        "User": {"features": {"score": {"type": "numeric"}}},
    },
    "attack_relationships": {"CAN_REACH": {"features": {"port": {"type": "categorical", "values": ["22"]}}},
                             "HAS_SESSION": {}},
    "entry_points": {"property": "internet_exposed"},
    "crown_jewels": {"property": "critical"},
}, "tiny mapping")


def _graph(os_values, ages, edr, scores, ports, kinds=("Host", "Host", "Host", "User")):
    n = len(kinds)
    return AttackGraphData(
        node_ids=[f"n{i}" for i in range(n)], node_kind=list(kinds),
        node_props={"os": np.array(os_values, dtype=object), "age": np.array(ages, dtype=float),
                    "edr": np.array(edr, dtype=float), "score": np.array(scores, dtype=float)},
        edge_src=[0, 0, 1], edge_dst=[1, 2, 3], edge_type=["CAN_REACH", "CAN_REACH", "HAS_SESSION"],
        edge_props={"port": np.array(ports, dtype=object)},
        edge_label=[1.0, np.nan, 0.0], edge_feedback=[np.nan] * 3,
        entry_mask=[True, False, False, False], crown_mask=[False, False, False, True], mapping="tiny",
        prop_types={"os": "categorical", "age": "numeric", "edr": "boolean", "score": "numeric"},
        edge_prop_types={"port": "categorical"})


TRAIN = _graph(["linux", "bsd", None, None], [1.0, 3.0, np.nan, np.nan], [1.0, 0.0, np.nan, np.nan],
               [np.nan, np.nan, np.nan, -2.0], ["22", "80", None])


def _columns(spec: FeatureSpec, matrix: np.ndarray, prefix: str, names: list[str]) -> np.ndarray:
    index = [names.index(n) for n in names if n.startswith(prefix)]
    return matrix[:, index]


def test_layout_and_hand_checked_node_encoding():
    spec = FeatureSpec.fit(TRAIN, MAPPING)
    names = spec.node_feature_names
    assert names[:3] == ["kind=Host", "kind=User", f"kind={UNKNOWN}"]
    assert names[3:7] == ["entry_point", "crown_jewel", "log1p_in_degree", "log1p_out_degree"]
    # categorical: mapping values first, then values seen in training, then unknown, then missing
    assert [n for n in names if n.startswith("os")] == ["os=linux", "os=windows", "os=bsd", f"os={UNKNOWN}",
                                                         "os:missing"]
    assert [n for n in names if n.startswith("age")] == ["age", "age:log1p", "age:missing"]
    assert [n for n in names if n.startswith("score")] == ["score", "score:missing"]  # negative: no log column
    assert len(names) == spec.node_dim

    test = _graph(["windows", "solaris", None, None], [5.0, np.nan, 1.0, np.nan], [np.nan, 1.0, 0.0, np.nan],
                  [np.nan, np.nan, np.nan, 4.0], ["9999", "22", None], kinds=("Host", "Host", "Printer", "User"))
    x = spec.encode_nodes(test)
    assert x.dtype == np.float32 and x.shape == (4, spec.node_dim)
    np.testing.assert_array_equal(_columns(spec, x, "kind", names), [[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(_columns(spec, x, "os", names),
                                  [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]])
    # age: training mean 2, std 1 -> (5 - 2) / 1 = 3; missing -> 0 with the indicator set
    age = _columns(spec, x, "age", names)
    np.testing.assert_allclose(age[:, 0], [3.0, 0.0, -1.0, 0.0])
    log_mean = np.mean(np.log1p([1.0, 3.0]))
    log_std = np.std(np.log1p([1.0, 3.0]))
    np.testing.assert_allclose(age[:, 1], [(np.log1p(5.0) - log_mean) / log_std, 0.0,
                                           (np.log1p(1.0) - log_mean) / log_std, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(age[:, 2], [0, 1, 0, 1])
    np.testing.assert_array_equal(_columns(spec, x, "edr", names), [[0, 1], [1, 0], [0, 0], [0, 1]])
    # a single training value: std falls back to 1
    np.testing.assert_allclose(_columns(spec, x, "score", names), [[0, 1], [0, 1], [0, 1], [6.0, 0]])
    # markers and degrees (edges 0->1, 0->2, 1->3)
    np.testing.assert_array_equal(x[:, 3:5], [[1, 0], [0, 0], [0, 0], [0, 1]])
    np.testing.assert_allclose(x[:, 5], np.log1p([0, 1, 1, 1]), rtol=1e-6)
    np.testing.assert_allclose(x[:, 6], np.log1p([2, 1, 0, 0]), rtol=1e-6)


def test_edge_encoding():
    spec = FeatureSpec.fit(TRAIN, MAPPING)
    assert spec.edge_feature_names == ["rel=CAN_REACH", "rel=HAS_SESSION", f"rel={UNKNOWN}",
                                       "port=22", "port=80", f"port={UNKNOWN}", "port:missing"]
    test = _graph(["linux"] * 4, [1.0] * 4, [1.0] * 4, [0.0] * 4, ["80", "443", None])
    test.edge_type[1] = "TELEPORTS"
    edge_attr = spec.encode_edges(test)
    np.testing.assert_array_equal(edge_attr, [[1, 0, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 0, 1]])


def test_encode_returns_float_tensors_and_checks_the_mapping():
    spec = FeatureSpec.fit(TRAIN, MAPPING)
    x, edge_attr = spec.encode(TRAIN)
    assert x.shape == (4, spec.node_dim) and edge_attr.shape == (3, spec.edge_dim)
    assert str(x.dtype) == "torch.float32" and str(edge_attr.dtype) == "torch.float32"
    other = _graph(["linux"] * 4, [1.0] * 4, [1.0] * 4, [0.0] * 4, ["22"] * 3)
    other.mapping = "canonical"
    with pytest.raises(ValueError, match="mapping"):
        spec.encode(other)


def test_spec_is_fitted_on_training_data_only():
    spec = FeatureSpec.fit(TRAIN, MAPPING)
    before = json.dumps(spec.to_dict(), sort_keys=True)
    test = _graph(["plan9"] * 4, [100.0, 200.0, 300.0, 400.0], [1.0] * 4, [50.0] * 4, ["8080"] * 3)
    spec.encode(test)
    assert json.dumps(spec.to_dict(), sort_keys=True) == before
    age = next(c for c in spec.node_columns if c.name == "age")
    assert (age.mean, age.std) == (2.0, 1.0)
    assert "plan9" not in next(c for c in spec.node_columns if c.name == "os").values
    refit = FeatureSpec.fit(test, MAPPING)
    assert next(c for c in refit.node_columns if c.name == "age").mean == 250.0


def test_json_round_trip_encodes_identically():
    env = SyntheticDataGenerator(5, size="small").generate_all()
    mapping = load_mapping("canonical")
    data = from_property_graph(env.graph, mapping)
    spec = FeatureSpec.fit(data, mapping)
    restored = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert restored == spec
    x1, e1 = spec.encode(data)
    x2, e2 = restored.encode(data)
    assert x1.equal(x2) and e1.equal(e2)
    assert not x1.isnan().any() and not e1.isnan().any()
    assert spec.node_kinds == mapping.labels
    with pytest.raises(ValueError, match="version"):
        FeatureSpec.from_dict({**spec.to_dict(), "version": 99})


def test_fit_without_mapping_uses_the_graph_types():
    spec = FeatureSpec.fit(TRAIN)
    assert [c.name for c in spec.node_columns] == ["os", "age", "edr", "score"]
    assert next(c for c in spec.node_columns if c.name == "os").values == ("linux", "bsd")
    with pytest.raises(ValueError, match="at least one"):
        FeatureSpec.fit([])
