"""Export the attack subgraph from Neo4j into `AttackGraphData` - the only module that calls the GDS client.

Two methods, one result:

* ``gds`` (default): a native GDS projection of the mapping's node labels and attack relationship types with
  every numeric feature property; node properties and relationships are streamed from the projection per type
  through the ``graphdatascience`` client. GDS projects numbers only, so string/boolean properties (categorical
  and boolean features, the outcome label, analyst feedback, the entry-point/crown-jewel markers and the ``id``)
  are read from the database for the same nodes/relationships, keyed by the projection's node ids.
  The projection is dropped after use, also on errors.
* ``cypher``: plain Cypher streaming through `GraphRunner`, for servers without GDS.

Both read only what the mapping names (ids, kind labels, mapped features, markers, label and feedback
properties) and build the result through `dataset.from_property_graph`, so they apply the same rules. The
generator's hidden ground truth lives in a separate file and is never read here.
"""

from __future__ import annotations

import logging
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.db import DatabaseError, GraphRunner
from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.mapping import Mapping

log = logging.getLogger(__name__)

METHODS = ("gds", "cypher")


class ExportError(RuntimeError):
    """The attack subgraph could not be exported (empty graph, missing GDS, ...)."""


@dataclass
class ExportResult:
    data: AttackGraphData
    method: str
    seconds: float
    problems: list[str] = field(default_factory=list)


# ---- what to read ------------------------------------------------------------------------------------------
def _node_props(mapping: Mapping) -> dict[str, str]:
    """Every node property the mapping reads -> its feature type ('marker' for marker-only properties)."""
    props: dict[str, str] = {}
    for kind in mapping.node_kinds:
        for feature in kind.features:
            props[feature.name] = feature.type
    for marker in (mapping.entry_points, mapping.crown_jewels):
        if marker.property and marker.property not in props:
            props[marker.property] = "marker"
    return props


def _edge_props(mapping: Mapping) -> dict[str, str]:
    props: dict[str, str] = {}
    for rel in mapping.attack_relationships:
        for feature in rel.features:
            props[feature.name] = feature.type
    if mapping.label_property:
        props[mapping.label_property] = "boolean"
    props[mapping.feedback_property] = "boolean"
    return props


def _kind_filter(mapping: Mapping, var: str) -> str:
    return " OR ".join(f"{var}:`{label}`" for label in mapping.labels)


# ---- assembling ------------------------------------------------------------------------------------------------
def _assemble(
    mapping: Mapping,
    node_ids: list[str],
    node_labels: list[list[str]],
    node_columns: dict[str, list[Any]],
    edges_by_type: dict[str, tuple[list[str], list[str], dict[str, list[Any]]]],
) -> AttackGraphData:
    """Tables read from Neo4j -> PropertyGraph grouped by kind -> AttackGraphData (shared rules)."""
    if not node_ids:
        raise ExportError(
            f"the database holds no :{mapping.key_label} nodes with labels {', '.join(mapping.labels)} "
            f"(mapping {mapping.name!r}); load or import a graph first"
        )
    kinds = set(mapping.labels)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, labels in enumerate(node_labels):
        kind = tuple(sorted(label for label in labels if label in kinds))
        groups.setdefault(kind, []).append(i)
    ids = np.asarray(node_ids, dtype=object)
    columns = {name: np.asarray(values, dtype=object) for name, values in node_columns.items()}
    node_sets = [
        NodeSet((mapping.key_label, *kind), ids[rows], {name: col[rows] for name, col in columns.items()})
        for kind, rows in ((k, np.asarray(v)) for k, v in groups.items())
    ]
    edge_sets = [
        EdgeSet(rel_type, mapping.key_label, mapping.key_label, np.asarray(src, dtype=object), np.asarray(dst, dtype=object),
                {name: np.asarray(values, dtype=object) for name, values in props.items()})
        for rel_type, (src, dst, props) in edges_by_type.items()
    ]
    return from_property_graph(PropertyGraph(node_sets, edge_sets), mapping, drop_dangling=True)


# ---- cypher ----------------------------------------------------------------------------------------------------
def export_cypher(runner: GraphRunner, mapping: Mapping) -> AttackGraphData:
    """Read the attack subgraph with plain Cypher (no GDS needed)."""
    node_props = list(_node_props(mapping))
    key, id_prop = mapping.key_label, mapping.id_property
    projection = ", ".join(f"`{p}`: n.`{p}`" for p in node_props)
    rows = runner.read(
        f"MATCH (n:`{key}`) WHERE {_kind_filter(mapping, 'n')} "
        f"RETURN n.`{id_prop}` AS id, labels(n) AS labels, {{{projection}}} AS props"
    )
    node_ids = [row["id"] for row in rows]
    node_labels = [row["labels"] for row in rows]
    node_columns = {p: [row["props"][p] for row in rows] for p in node_props}
    edge_props = list(_edge_props(mapping))
    rel_projection = ", ".join(f"`{p}`: r.`{p}`" for p in edge_props)
    edges: dict[str, tuple[list[str], list[str], dict[str, list[Any]]]] = {}
    for rel_type in mapping.rel_types:
        rows = runner.read(
            f"MATCH (a:`{key}`)-[r:`{rel_type}`]->(b:`{key}`) "
            f"RETURN a.`{id_prop}` AS src, b.`{id_prop}` AS dst, {{{rel_projection}}} AS props"
        )
        if rows:
            edges[rel_type] = ([r["src"] for r in rows], [r["dst"] for r in rows],
                               {p: [r["props"][p] for r in rows] for p in edge_props})
    return _assemble(mapping, node_ids, node_labels, node_columns, edges)


# ---- gds -------------------------------------------------------------------------------------------------------
def _connect_gds(runner: GraphRunner):
    """A GDS client over the runner's own driver (same connection settings, notifications off, no Arrow)."""
    from graphdatascience import GraphDataScience

    try:
        return GraphDataScience(runner.driver, database=runner.database, arrow=False, show_progress=False)
    except Exception as exc:  # noqa: BLE001 - the client raises plain errors when GDS is missing
        raise ExportError(f"cannot use GDS at {runner.settings.neo4j_uri}: {exc}; use the cypher export method") from exc


def export_gds(runner: GraphRunner, mapping: Mapping) -> AttackGraphData:
    """Project the attack subgraph with GDS and stream it through the Python client."""
    node_types, edge_types = _node_props(mapping), _edge_props(mapping)
    present_labels = {row["label"] for row in runner.read("CALL db.labels() YIELD label RETURN label")}
    present_types = {row["t"] for row in runner.read("CALL db.relationshipTypes() YIELD relationshipType AS t RETURN t")}
    present_keys = {row["k"] for row in runner.read("CALL db.propertyKeys() YIELD propertyKey AS k RETURN k")}
    labels = [label for label in mapping.labels if label in present_labels]
    rel_types = [t for t in mapping.rel_types if t in present_types]
    if not labels:
        raise ExportError(f"the database holds none of the mapping's labels ({', '.join(mapping.labels)}); load a graph first")
    numeric_node = [p for p, t in node_types.items() if t == "numeric" and p in present_keys]
    numeric_edge = [p for p, t in edge_types.items() if t == "numeric" and p in present_keys]
    other_node = [p for p in node_types if p not in numeric_node]
    other_edge = [p for p in edge_types if p not in numeric_edge]
    nan = float("nan")
    node_projection = {
        label: {"label": label, "properties": {p: {"property": p, "defaultValue": nan} for p in numeric_node}}
        for label in labels
    }
    rel_projection = {
        t: {"type": t, "orientation": "NATURAL", "properties": {p: {"property": p, "defaultValue": nan} for p in numeric_edge}}
        for t in rel_types
    }
    gds = _connect_gds(runner)
    name = f"gnn_export_{uuid.uuid4().hex[:12]}"
    try:
        with warnings.catch_warnings():
            # graphdatascience 2.2 passes inplace= to pandas 3, which only warns; the results are unaffected
            warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame")
            graph, _ = gds.graph.project.native(name, node_projection, rel_projection or "*", log_progress=False)
            if not numeric_node:  # node_properties.stream needs one projected property
                gds.degree.mutate(graph, mutate_property="gnn_export_degree", log_progress=False)
            streamed = gds.graph.node_properties.stream(
                graph, numeric_node or ["gnn_export_degree"], list_node_labels=True, log_progress=False,
                db_node_properties=[mapping.id_property, *other_node],
            )
            node_ids = streamed[mapping.id_property].tolist()
            internal_to_id = dict(zip(streamed["nodeId"].tolist(), node_ids))
            node_columns = {p: streamed[p].tolist() for p in [*numeric_node, *other_node]}
            node_labels = streamed["nodeLabels"].tolist()
            edges: dict[str, tuple[list[str], list[str], dict[str, list[Any]]]] = {}
            for rel_type in rel_types:
                rels = gds.graph.relationships.stream(graph, [rel_type], numeric_edge or None, log_progress=False)
                src = [internal_to_id[s] for s in rels["sourceNodeId"].tolist()]
                dst = [internal_to_id[t] for t in rels["targetNodeId"].tolist()]
                props: dict[str, list[Any]] = {p: rels[p].tolist() for p in numeric_edge}
                props.update(_edge_extras(runner, mapping, rel_type, other_edge, list(zip(src, dst))))
                edges[rel_type] = (src, dst, props)
    except (DatabaseError, ExportError):
        raise
    except Exception as exc:  # noqa: BLE001 - client errors become one clear error type
        raise ExportError(f"GDS export failed: {exc}") from exc
    finally:
        gds.graph.drop(name, fail_if_missing=False)  # the driver belongs to the runner: not closed here
    return _assemble(mapping, node_ids, node_labels, node_columns, edges)


def _edge_extras(runner: GraphRunner, mapping: Mapping, rel_type: str, props: list[str],
                 pairs: list[tuple[str, str]]) -> dict[str, list[Any]]:
    """Non-numeric relationship properties for streamed (src id, dst id) pairs of one type.

    Joined by endpoint ids: parallel relationships of one type between one pair share the first one's values.
    """
    if not props or not pairs:
        return {p: [None] * len(pairs) for p in props}
    key, id_prop = mapping.key_label, mapping.id_property
    projection = ", ".join(f"`{p}`: r.`{p}`" for p in props)
    rows = runner.read(
        f"MATCH (a:`{key}`)-[r:`{rel_type}`]->(b:`{key}`) RETURN a.`{id_prop}` AS src, b.`{id_prop}` AS dst, {{{projection}}} AS props"
    )
    by_pair: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        by_pair.setdefault((row["src"], row["dst"]), row["props"])
    empty: dict[str, Any] = {}
    return {p: [by_pair.get(pair, empty).get(p) for pair in pairs] for p in props}


def mapping_problems(runner: GraphRunner, mapping: Mapping) -> list[str]:
    """Labels, relationship types and properties the mapping names that the database has never seen.

    A mapping may legitimately name kinds a particular graph lacks, so these are reported (logged by the
    export, shown by `train`) rather than fatal - unless nothing at all matches, which `export_attack_graph`
    turns into an ExportError.
    """
    labels = {row["x"] for row in runner.read("CALL db.labels() YIELD label AS x RETURN x")}
    types = {row["x"] for row in runner.read("CALL db.relationshipTypes() YIELD relationshipType AS x RETURN x")}
    keys = {row["x"] for row in runner.read("CALL db.propertyKeys() YIELD propertyKey AS x RETURN x")}
    problems = [f"label {label!r} is not in the database" for label in (mapping.key_label, *mapping.labels) if label not in labels]
    problems += [f"relationship type {t!r} is not in the database" for t in mapping.rel_types if t not in types]
    optional = {mapping.label_property, mapping.feedback_property}
    problems += [f"property {p!r} is not in the database" for p in sorted(mapping.property_names() - optional) if p not in keys]
    return problems


def export_attack_graph(runner: GraphRunner, mapping: Mapping, method: str = "gds") -> ExportResult:
    """Export the attack subgraph the mapping describes.

    Args:
        runner: the database seam (its settings give the GDS client its connection).
        mapping: which labels, relationship types and properties form the attack graph.
        method: ``gds`` (projection + client streaming) or ``cypher`` (no GDS needed).
    Returns:
        ExportResult with the data, the method used and the seconds it took.
    Raises:
        ExportError: empty graph, GDS missing, unknown method.
    """
    if method not in METHODS:
        raise ExportError(f"unknown export method {method!r}; use one of {', '.join(METHODS)}")
    problems = mapping_problems(runner, mapping)
    for problem in problems:
        log.warning("mapping %s: %s", mapping.name, problem)
    if any(p.startswith(f"label {mapping.key_label!r}") for p in problems) or all(
        f"relationship type {t!r} is not in the database" in problems for t in mapping.rel_types
    ):
        raise ExportError(
            f"the database does not look like a graph for mapping {mapping.name!r}: {'; '.join(problems[:6])}; "
            "load or import a graph first, or pick the right mapping"
        )
    began = time.perf_counter()
    data = export_gds(runner, mapping) if method == "gds" else export_cypher(runner, mapping)
    seconds = time.perf_counter() - began
    log.info("export (%s): %d nodes, %d attack edges in %.2fs", method, data.num_nodes, data.num_edges, seconds)
    return ExportResult(data, method, seconds, problems)


def gds_graphsage_embeddings(
    runner: GraphRunner,
    graphs: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    dimension: int = 32,
    epochs: int = 3,
    seed: int = 0,
) -> list[np.ndarray]:
    """Unsupervised GDS GraphSAGE embeddings (the "GDS GraphSAGE + logistic regression" baseline).

    One GraphSAGE model is trained on the first graph and applied inductively to every graph, so embeddings of
    different graphs live in one space. Graphs are constructed in the GDS catalog from the arrays (nothing is
    written to the database); graphs and model are dropped afterwards, also on errors.

    Args:
        runner: the database seam (its server must have GDS).
        graphs: ``(features (N, F), edge_src, edge_dst)`` per graph; the first one trains the model.
        dimension, epochs, seed: GraphSAGE settings.
    Returns:
        One float matrix (N, dimension) per graph, row i = node i.
    Raises:
        ExportError: GDS failed.
    """
    import pandas as pd

    gds = _connect_gds(runner)
    suffix = uuid.uuid4().hex[:12]
    model_name = f"gnn_baseline_sage_{suffix}"
    names = [f"gnn_baseline_{suffix}_{i}" for i in range(len(graphs))]
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame")
            projected = []
            for name, (features, src, dst) in zip(names, graphs):
                nodes = pd.DataFrame({"nodeId": np.arange(len(features), dtype=np.int64),
                                      "features": [row.tolist() for row in np.asarray(features, dtype=float)]})
                rels = pd.DataFrame({"sourceNodeId": np.asarray(src, dtype=np.int64),
                                     "targetNodeId": np.asarray(dst, dtype=np.int64), "relationshipType": "ATTACK"})
                projected.append(gds.graph.construct(name, nodes, rels))
            model, _ = gds.graph_sage.train(projected[0], model_name, ["features"], embedding_dimension=dimension,
                                            epochs=epochs, random_seed=seed, log_progress=False)
            embeddings = []
            for graph in projected:
                stream = model.predict_stream(graph, log_progress=False)
                order = np.argsort(stream["nodeId"].to_numpy())
                embeddings.append(np.asarray(stream["embedding"].tolist(), dtype=np.float64)[order])
        return embeddings
    except (DatabaseError, ExportError):
        raise
    except Exception as exc:  # noqa: BLE001
        raise ExportError(f"GDS GraphSAGE failed: {exc}") from exc
    finally:
        runner.write("CALL gds.model.drop($name, false) YIELD modelName RETURN modelName", {"name": model_name})
        for name in names:
            gds.graph.drop(name, fail_if_missing=False)
