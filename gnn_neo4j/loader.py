"""Write a `PropertyGraph` into Neo4j: batched ``UNWIND`` + ``MERGE``, idempotent.

Loading the same graph twice changes nothing (MERGE on the key label's ``id``; properties are SET to
the same values). Up to ``atomic_limit`` rows are written in ONE transaction, so a failure - bad data
found by the server, a server that went away - leaves the database exactly as it was. Larger loads are
written in batches of ``batch_size`` rows, each its own transaction; because every statement is an
idempotent MERGE, re-running the same load after a failure completes it without duplicates.
Producers validate their input completely before anything is written (`PropertyGraph.validate`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from gnn_neo4j.db import GraphRunner
from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.mapping import check_identifier

log = logging.getLogger(__name__)

DEFAULT_ATOMIC_LIMIT = 200_000


@dataclass
class LoadReport:
    nodes: int = 0
    relationships: int = 0
    seconds: float = 0.0
    atomic: bool = True
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return (self.nodes + self.relationships) / self.seconds if self.seconds > 0 else float("nan")


def node_query(node_set: NodeSet) -> str:
    """``UNWIND $rows`` MERGE statement for one node set (labels checked against the identifier pattern)."""
    key, *extra = [check_identifier(label, "label", "graph") for label in node_set.labels]
    add_labels = "".join(f":`{label}`" for label in extra)
    set_labels = f" SET n{add_labels}" if add_labels else ""
    return f"UNWIND $rows AS row MERGE (n:`{key}` {{id: row.id}}) SET n += row.props{set_labels}"


def edge_query(edge_set: EdgeSet) -> str:
    """``UNWIND $rows`` MERGE statement for one edge set. # (:src_label)-[:rel_type]->(:dst_label)"""
    src = check_identifier(edge_set.src_label, "label", "graph")
    dst = check_identifier(edge_set.dst_label, "label", "graph")
    rel = check_identifier(edge_set.rel_type, "relationship type", "graph")
    return (
        f"UNWIND $rows AS row MATCH (a:`{src}` {{id: row.src}}) MATCH (b:`{dst}` {{id: row.dst}}) "
        f"MERGE (a)-[r:`{rel}`]->(b) SET r += row.props"
    )


def _python(value: Any) -> Any:
    """numpy scalar -> Python; NaN/None -> None (not written)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _property_rows(columns: dict[str, np.ndarray], start: int, stop: int) -> list[dict[str, Any]]:
    names = list(columns)
    checked = [check_identifier(name, "property", "graph") for name in names]
    sliced = [columns[name][start:stop].tolist() for name in names]
    rows = []
    for values in zip(*sliced) if sliced else ([] for _ in range(stop - start)):
        props = {}
        for name, value in zip(checked, values):
            value = _python(value)
            if value is not None:
                props[name] = value
        rows.append(props)
    return rows


def node_rows(node_set: NodeSet, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
    stop = len(node_set) if stop is None else stop
    ids = node_set.ids[start:stop].tolist()
    return [{"id": str(i), "props": p} for i, p in zip(ids, _property_rows(node_set.properties, start, stop) or [{}] * len(ids))]


def edge_rows(edge_set: EdgeSet, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
    stop = len(edge_set) if stop is None else stop
    src = edge_set.src[start:stop].tolist()
    dst = edge_set.dst[start:stop].tolist()
    props = _property_rows(edge_set.properties, start, stop) or [{}] * len(src)
    return [{"src": str(s), "dst": str(d), "props": p} for s, d, p in zip(src, dst, props)]


def _statements(graph: PropertyGraph, batch_size: int) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for node_set in graph.nodes:
        query = node_query(node_set)
        for start in range(0, len(node_set), batch_size):
            yield query, node_rows(node_set, start, start + batch_size)
    for edge_set in graph.edges:
        query = edge_query(edge_set)
        for start in range(0, len(edge_set), batch_size):
            yield query, edge_rows(edge_set, start, start + batch_size)


def ensure_key_constraints(runner: GraphRunner, graph: PropertyGraph) -> None:
    """Uniqueness constraint on ``id`` for every key label (MERGE needs the index to be fast)."""
    for label in sorted({n.key_label for n in graph.nodes}):
        label = check_identifier(label, "label", "graph")
        runner.write(f"CREATE CONSTRAINT `{label.lower()}_id` IF NOT EXISTS FOR (n:`{label}`) REQUIRE n.id IS UNIQUE")


def load_graph(
    runner: GraphRunner,
    graph: PropertyGraph,
    batch_size: int | None = None,
    atomic_limit: int = DEFAULT_ATOMIC_LIMIT,
    progress: bool = False,
) -> LoadReport:
    """Validate ``graph`` and MERGE it into Neo4j.

    Args:
        runner: the database seam.
        graph: nodes and edges to write.
        batch_size: rows per UNWIND statement (default: settings.batch_size).
        atomic_limit: graphs with at most this many rows are written in one transaction.
        progress: show a progress bar on stderr.
    Returns:
        LoadReport with counts, seconds and rows/s.
    Raises:
        ValueError: invalid graph (nothing written).
        DatabaseError: the server failed (nothing written when atomic).
    """
    graph.validate()
    size = batch_size or runner.settings.batch_size
    total = graph.node_count + graph.edge_count
    atomic = total <= atomic_limit
    ensure_key_constraints(runner, graph)
    report = LoadReport(nodes=graph.node_count, relationships=graph.edge_count, atomic=atomic, counts=graph.counts())
    began = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="rows", desc="loading", leave=False)
    try:
        if atomic:
            with runner.transaction() as tx:
                for query, rows in _statements(graph, size):
                    tx.run(query, rows=rows).consume()
                    if bar is not None:
                        bar.update(len(rows))
        else:
            for query, rows in _statements(graph, size):
                runner.write(query, {"rows": rows})
                if bar is not None:
                    bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - began
    log.info("loaded %d nodes and %d relationships in %.2fs (%.0f rows/s, %s)", report.nodes,
             report.relationships, report.seconds, report.rows_per_second, "one transaction" if atomic else "batched")
    return report
