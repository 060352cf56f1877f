"""JSON graph import: the documented format, its JSON Schema, and a clear error for every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from gnn_neo4j.importers.errors import GraphImportError, ImportReport
from gnn_neo4j.importers.json_format import (
    graph_schema,
    parse_json_graph,
    read_json_graph,
    validate_against_mapping,
)
from gnn_neo4j.mapping import IDENTIFIER, parse_mapping

DATA = Path(__file__).resolve().parents[1] / "data" / "json_graph"
WEIRD = "x'}) DETACH DELETE n //"


def nodes_of(graph) -> dict[str, tuple[tuple[str, ...], dict]]:
    return {node_id: (n.labels, {k: c[i] for k, c in n.properties.items() if c[i] is not None})
            for n in graph.nodes for i, node_id in enumerate(n.ids)}


def edges_of(graph) -> dict[tuple[str, str, str], dict]:
    return {(s, e.rel_type, d): {k: c[i] for k, c in e.properties.items() if c[i] is not None}
            for e in graph.edges for i, (s, d) in enumerate(zip(e.src, e.dst))}


def test_valid_file_round_trips_as_plain_data():
    graph, report = read_json_graph(DATA / "valid.json")
    nodes = nodes_of(graph)
    assert nodes["internet"] == (("Asset", "Zone"), {"name": "internet", "internet_exposed": True})
    labels, web = nodes["web-1"]
    assert labels == ("Asset", "Host")  # Asset listed again is ignored
    assert web == {"name": "web-1", "os": "linux", "cvss_max": 9.8, "patch_age_days": 42, "tags": ["dmz", "prod"],
                   "ports": [80, 443], "weights": [1.0, 2.5], "flags": [True, False], "empty": []}
    assert [type(v) for v in web["weights"]] == [float, float] and "owner" not in web  # null = not set
    assert nodes["db-1"][0] == ("Asset", "Host", "Database") and nodes["bare"] == (("Asset",), {})
    weird = nodes[WEIRD][1]
    assert weird["name"] == WEIRD and weird["note"] == 'Zoë Ωmega 🐉 "quoted" `tick` \\ back\nMATCH (n) DETACH DELETE n'
    assert weird["big"] == 2**63 - 1 and weird["small"] == -(2**63)
    edges = edges_of(graph)
    assert edges[("internet", "CAN_REACH", "web-1")] == {"port": 443, "exploited": True}
    assert edges[("web-1", "HAS_CREDENTIAL", "db-1")] == {}
    assert edges[(WEIRD, "CAN_REACH", "db-1")] == {"exploited": False, "why": 'it\'s "fine"'}
    assert report.nodes_by_kind == {"Zone": 1, "Host": 2, "Host:Database": 1, "Asset": 1}
    assert report.edges_by_type == {"CAN_REACH": 3, "HAS_CREDENTIAL": 1} and report.format == "json"
    assert report.node_count == 5 and report.edge_count == 4 and not report.skipped
    graph.validate()


@pytest.mark.parametrize(("name", "position", "fragment"), [
    ("syntax_error.json", "line 89 column 4", "invalid JSON: Expecting property name"),
    ("nan.json", "line 24 column 17", "NaN is not a JSON number"),
    ("not_utf8.json", "line 64 column 16", "not valid UTF-8"),
    ("duplicate_key.json", "/nodes/2/properties/name", "key 'name' appears twice"),
    ("bad_label.json", "/nodes/2/labels/1", "label 'Data-base' is not an identifier"),
    ("cypher_label.json", "/nodes/1/labels/0", "is not an identifier"),
    ("bad_rel_type.json", "/edges/1/type", "relationship type 'CAN REACH' is not an identifier"),
    ("bad_property_name.json", "/nodes/0/properties/internet-exposed", "property name 'internet-exposed'"),
    ("duplicate_id.json", "/nodes/5/id", "duplicate node id 'web-1' (first at /nodes/1)"),
    ("missing_endpoint.json", "/edges/4/target", "edge target 'ghost' is not the id of any node"),
    ("nested_property.json", "/nodes/2/properties/meta", "is an object of an unsupported kind"),
    ("mixed_list.json", "/edges/0/properties/ports", "one type per list"),
    ("big_int.json", "/nodes/1/properties/huge", "does not fit in 64 bits"),
    ("reserved_property.json", "/nodes/1/properties/gnn_risk", "reserved"),
    ("id_property.json", "/nodes/1/properties/id", "property 'id' is reserved"),
    ("reserved_rel_type.json", "/edges/0/type", "ATTACK_PATH is reserved"),
    ("reserved_label.json", "/nodes/0/labels/1", "reserved"),
    ("duplicate_edge.json", "/edges/4", "second CAN_REACH edge from 'web-1' to 'db-1' (first at /edges/1)"),
    ("unknown_key.json", "/edges/2", "unknown key(s) 'weight'"),
    ("numeric_id.json", "/nodes/4/id", "expected a string id, got a number"),
    ("missing_type.json", "/edges/3", "an edge needs 'type'"),
    ("nodes_not_list.json", "/nodes", "expected a list, got an object"),
    ("wrong_version.json", "/version", "unsupported version 2"),
    ("repeated_label.json", "/nodes/1/labels/2", "label Host is listed twice"),
])
def test_bad_files_name_file_and_position(name, position, fragment):
    with pytest.raises(GraphImportError) as info:
        read_json_graph(DATA / name)
    error = info.value
    assert (error.file, error.position) == (str(DATA / name), position)
    assert fragment in error.message
    assert str(error) == f"{DATA / name}: {position}: {error.message}"


def test_syntax_error_position_is_the_real_one():
    lines = (DATA / "syntax_error.json").read_text(encoding="utf-8").splitlines()
    assert lines[87].strip() == '"port": 5432,' and lines[88][3] == "}"  # line 89, column 4


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(GraphImportError, match="does not exist"):
        read_json_graph(tmp_path / "none.json")
    with pytest.raises(GraphImportError, match="is a directory"):
        read_json_graph(tmp_path)


def test_many_dangling_edges_are_counted_in_one_error():
    document = {"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": f"t{i}", "type": "X"} for i in range(3)]}
    with pytest.raises(GraphImportError, match=r"'t0' is not the id .* \(and 2 more dangling endpoint\(s\)\)"):
        parse_json_graph(document, "mem.json")


def test_non_finite_numbers_from_python_documents_are_refused():
    with pytest.raises(GraphImportError, match="not finite") as info:
        parse_json_graph({"nodes": [{"id": "a", "properties": {"x": float("inf")}}]})
    assert info.value.position == "/nodes/0/properties/x"


SCHEMA_CASES = [
    "valid.json", "bad_label.json", "cypher_label.json", "bad_rel_type.json", "bad_property_name.json",
    "nested_property.json", "mixed_list.json", "unknown_key.json", "numeric_id.json", "missing_type.json",
    "nodes_not_list.json", "wrong_version.json", "repeated_label.json",
]
BEYOND_SCHEMA = ["duplicate_id.json", "missing_endpoint.json", "big_int.json", "reserved_property.json",
                 "id_property.json", "reserved_rel_type.json", "reserved_label.json", "duplicate_edge.json"]


@pytest.mark.parametrize("name", SCHEMA_CASES + BEYOND_SCHEMA)
def test_reader_and_json_schema_agree(name):
    """The fast reader and graph.schema.json give the same verdict; rules beyond the schema only add refusals."""
    schema = graph_schema()
    Draft202012Validator.check_schema(schema)
    document = json.loads((DATA / name).read_text(encoding="utf-8"))
    schema_ok = Draft202012Validator(schema).is_valid(document)
    try:
        parse_json_graph(document, name)
        reader_ok = True
    except GraphImportError:
        reader_ok = False
    if name in BEYOND_SCHEMA:
        assert schema_ok and not reader_ok
    else:
        assert schema_ok == reader_ok == (name == "valid.json")


def test_schema_identifier_rule_is_the_mapping_rule():
    assert graph_schema()["$defs"]["identifier"]["pattern"] == IDENTIFIER.pattern


MAPPING = {
    "name": "lab", "key_label": "Asset", "id_property": "id",
    "node_labels": {"Host": {"features": {"os": {"type": "categorical"}}}, "Database": None, "Zone": None},
    "attack_relationships": {"CAN_REACH": {"prior": 0.3, "prior_source": "test"}},
    "entry_points": {"property": "internet_exposed"}, "crown_jewels": {"property": "critical"},
}


def test_validate_against_mapping_lists_every_unknown_name():
    graph, _ = read_json_graph(DATA / "valid.json")
    mapping = parse_mapping(MAPPING, "lab.yaml")
    validate_against_mapping(graph, mapping, other_rel_types=["HAS_CREDENTIAL"])
    with pytest.raises(GraphImportError) as info:
        validate_against_mapping(graph, mapping, source="valid.json")
    assert "relationship types not in the mapping: HAS_CREDENTIAL (1 edges)" in str(info.value)
    narrow = parse_mapping({**MAPPING, "node_labels": {"Host": None}}, "narrow.yaml")
    with pytest.raises(GraphImportError) as info:
        validate_against_mapping(graph, narrow, other_rel_types=["HAS_CREDENTIAL"], source="valid.json")
    message = str(info.value)
    assert message.startswith("valid.json: does not match mapping 'lab' (narrow.yaml)")
    assert "labels not in the mapping: Database (1 nodes), Zone (1 nodes); the mapping knows: Host" in message
    other_key = parse_mapping({**MAPPING, "key_label": "Node"}, "other.yaml")
    with pytest.raises(GraphImportError, match="key label\\(s\\) Asset differ from the mapping's key_label Node"):
        validate_against_mapping(graph, other_key, other_rel_types=["HAS_CREDENTIAL"])


def test_report_serialises_to_plain_json():
    _, report = read_json_graph(DATA / "valid.json")
    assert isinstance(report, ImportReport)
    again = json.loads(json.dumps(report.to_dict()))
    assert again["nodes"] == 5 and again["edges_by_type"] == {"CAN_REACH": 3, "HAS_CREDENTIAL": 1}
    assert "5 nodes" in report.summary()
