from __future__ import annotations

import numpy as np
import pytest

from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.loader import edge_query, edge_rows, node_query, node_rows
from gnn_neo4j.mapping import MappingError
from gnn_neo4j.schema import migrations, split_statements


def test_node_query_and_rows_drop_missing_values():
    nodes = NodeSet(("Asset", "Host"), np.array(["h1", "h2"]),
                    {"cvss": np.array([9.8, np.nan]), "os": np.array(["linux", None], dtype=object)})
    assert node_query(nodes) == "UNWIND $rows AS row MERGE (n:`Asset` {id: row.id}) SET n += row.props SET n:`Host`"
    assert node_rows(nodes) == [{"id": "h1", "props": {"cvss": 9.8, "os": "linux"}}, {"id": "h2", "props": {}}]


def test_edge_rows_convert_numpy_types():
    edges = EdgeSet("CAN_REACH", "Asset", "Asset", np.array(["a"]), np.array(["b"]), {"port": np.array([443], dtype=np.int64)})
    row = edge_rows(edges)[0]
    assert row == {"src": "a", "dst": "b", "props": {"port": 443}} and type(row["props"]["port"]) is int
    assert "MERGE (a)-[r:`CAN_REACH`]->(b)" in edge_query(edges)


def test_identifiers_are_checked_before_any_query_is_built():
    evil = NodeSet(("Asset", "Host`) DETACH DELETE n //",), np.array(["x"]))
    with pytest.raises(MappingError):
        node_query(evil)


def test_graph_validate_catches_duplicates_and_dangling_edges():
    graph = PropertyGraph([NodeSet(("Asset",), np.array(["a", "a"]))])
    with pytest.raises(ValueError, match="duplicate Asset ids: a"):
        graph.validate()
    graph = PropertyGraph([NodeSet(("Asset",), np.array(["a"]))],
                          [EdgeSet("CAN_REACH", "Asset", "Asset", np.array(["a"]), np.array(["zz"]))])
    with pytest.raises(ValueError, match="target ids not among :Asset"):
        graph.validate()


def test_schema_files_split_into_named_idempotent_statements():
    found = migrations()
    assert [m.number for m in found] == sorted(m.number for m in found) and found
    for migration in found:
        assert migration.statements
        assert all("IF NOT EXISTS" in s for s in migration.statements)
    assert split_statements("// c\nCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);\n\n") == (
        "CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x)",)
