"""Export of the attack subgraph: GDS and Cypher give exactly what the mapping names, nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from gnn_neo4j.dataset import from_property_graph
from gnn_neo4j.export import ExportError, export_attack_graph
from gnn_neo4j.loader import load_graph
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.synthetic import SyntheticDataGenerator

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def environment():
    return SyntheticDataGenerator(seed=11, size="small").generate_all()


def _edge_keys(data):
    labels = np.nan_to_num(data.edge_label, nan=-1.0)
    return sorted(zip(data.node_ids[data.edge_src].tolist(), data.edge_type.tolist(),
                      data.node_ids[data.edge_dst].tolist(), labels.tolist()))


@pytest.mark.parametrize("method", ["gds", "cypher"])
def test_export_equals_the_in_memory_reading(runner, environment, method):
    load_graph(runner, environment.graph)
    mapping = load_mapping("canonical")
    expected = from_property_graph(environment.graph, mapping)
    result = export_attack_graph(runner, mapping, method)
    data = result.data
    assert result.method == method
    assert sorted(data.node_ids.tolist()) == sorted(expected.node_ids.tolist())
    order = data.id_index(expected.node_ids)
    assert (data.node_kind[order] == expected.node_kind).all()
    assert (data.entry_mask[order] == expected.entry_mask).all() and expected.entry_mask.any()
    assert (data.crown_mask[order] == expected.crown_mask).all() and expected.crown_mask.any()
    assert set(data.node_props) == set(expected.node_props)
    for name, column in expected.node_props.items():
        if column.dtype == object:
            assert data.node_props[name][order].tolist() == column.tolist(), name
        else:
            np.testing.assert_allclose(data.node_props[name][order], column, equal_nan=True, err_msg=name)
    assert _edge_keys(data) == _edge_keys(expected)
    assert runner.read("CALL gds.graph.list() YIELD graphName RETURN count(*) AS c")[0]["c"] == 0


def test_export_reads_only_mapped_properties(runner, environment):
    load_graph(runner, environment.graph)
    runner.write("MATCH ()-[r:CAN_REACH]->() SET r.true_exploit_prob = 0.5, r.secret_note = 'x'")
    mapping = load_mapping("canonical")
    data = export_attack_graph(runner, mapping, "gds").data
    allowed = mapping.property_names()
    assert set(data.node_props) <= allowed
    assert set(data.edge_props) <= allowed
    assert "true_exploit_prob" not in data.edge_props


def test_projection_dropped_when_export_fails(runner, environment):
    load_graph(runner, environment.graph)
    # a numeric feature holding a string makes the GDS projection fail part-way
    runner.write("MATCH (h:Asset:Host) WITH h LIMIT 1 SET h.patch_age_days = 'not a number'")
    with pytest.raises(ExportError):
        export_attack_graph(runner, load_mapping("canonical"), "gds")
    assert runner.read("CALL gds.graph.list() YIELD graphName RETURN count(*) AS c")[0]["c"] == 0


@pytest.mark.parametrize("method", ["gds", "cypher"])
def test_empty_database_is_a_clear_error(runner, method):
    with pytest.raises(ExportError, match="load .* graph first"):
        export_attack_graph(runner, load_mapping("canonical"), method)


def test_mapping_mismatch_is_reported(runner, environment):
    from gnn_neo4j.mapping import parse_mapping

    load_graph(runner, environment.graph)
    typo = parse_mapping({
        "node_labels": {"Host": {"features": {"patch_age_dayz": "numeric"}}, "Hots": {}},
        "attack_relationships": {"CAN_REACH": {}},
        "entry_points": {"property": "internet_exposed"}, "crown_jewels": {"property": "critical"},
    }, "typo.yaml")
    result = export_attack_graph(runner, typo, "cypher")
    assert "label 'Hots' is not in the database" in result.problems
    assert "property 'patch_age_dayz' is not in the database" in result.problems
    nothing = parse_mapping({
        "node_labels": {"Host": {}}, "attack_relationships": {"CAN_REECH": {}},
        "entry_points": {"property": "internet_exposed"}, "crown_jewels": {"property": "critical"},
    }, "wrong.yaml")
    with pytest.raises(ExportError, match="CAN_REECH"):
        export_attack_graph(runner, nothing, "gds")
