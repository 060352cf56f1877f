"""In-memory property graph: the one shape every producer (generator, importers) hands to the loader.

Columns are numpy arrays so that generation and loading of 10^6 nodes stay vectorised. A producer
never talks to Neo4j; `gnn_neo4j.loader` writes a `PropertyGraph` in batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class NodeSet:
    """Nodes of one kind.

    Args:
        labels: labels in order; the first one is the key label that carries the unique ``id``
            (``("Asset", "Host")``: MERGE on ``:Asset {id}``, then add ``:Host``).
        ids: unique string ids, shape (n,).
        properties: column name -> array of shape (n,). ``None``/NaN entries mean "missing" and are not written.
    """

    labels: tuple[str, ...]
    ids: np.ndarray
    properties: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=object)
        for name, column in self.properties.items():
            if len(column) != len(self.ids):
                raise ValueError(
                    f"node set {':'.join(self.labels)}: property {name!r} has {len(column)} values for {len(self.ids)} ids"
                )

    @property
    def key_label(self) -> str:
        return self.labels[0]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class EdgeSet:
    """Relationships of one type between two key labels.

    # (:src_label {id: src})-[:rel_type]->(:dst_label {id: dst})
    """

    rel_type: str
    src_label: str
    dst_label: str
    src: np.ndarray
    dst: np.ndarray
    properties: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.src = np.asarray(self.src, dtype=object)
        self.dst = np.asarray(self.dst, dtype=object)
        if len(self.src) != len(self.dst):
            raise ValueError(f"edge set {self.rel_type}: {len(self.src)} sources for {len(self.dst)} targets")
        for name, column in self.properties.items():
            if len(column) != len(self.src):
                raise ValueError(
                    f"edge set {self.rel_type}: property {name!r} has {len(column)} values for {len(self.src)} edges"
                )

    def __len__(self) -> int:
        return len(self.src)


@dataclass
class PropertyGraph:
    """A whole graph to load: node sets and edge sets."""

    nodes: list[NodeSet] = field(default_factory=list)
    edges: list[EdgeSet] = field(default_factory=list)

    @property
    def node_count(self) -> int:
        return sum(len(n) for n in self.nodes)

    @property
    def edge_count(self) -> int:
        return sum(len(e) for e in self.edges)

    def counts(self) -> dict[str, dict[str, int]]:
        """Node counts per label combination and edge counts per type (what a loader reports)."""
        nodes: dict[str, int] = {}
        for node_set in self.nodes:
            key = ":".join(node_set.labels)
            nodes[key] = nodes.get(key, 0) + len(node_set)
        edges: dict[str, int] = {}
        for edge_set in self.edges:
            edges[edge_set.rel_type] = edges.get(edge_set.rel_type, 0) + len(edge_set)
        return {"nodes": nodes, "edges": edges}

    def validate(self) -> None:
        """Raise ValueError on duplicate ids within a key label or edges whose endpoints are missing."""
        ids_by_label: dict[str, set] = {}
        for node_set in self.nodes:
            seen = ids_by_label.setdefault(node_set.key_label, set())
            unique, counts = np.unique(node_set.ids.astype(str), return_counts=True)
            dupes = unique[counts > 1]
            if len(dupes):
                raise ValueError(f"duplicate {node_set.key_label} ids: {', '.join(map(str, dupes[:5]))}")
            overlap = seen.intersection(unique.tolist())
            if overlap:
                raise ValueError(f"duplicate {node_set.key_label} ids: {', '.join(sorted(overlap)[:5])}")
            seen.update(unique.tolist())
        for edge_set in self.edges:
            for side, label, column in (("source", edge_set.src_label, edge_set.src), ("target", edge_set.dst_label, edge_set.dst)):
                known = ids_by_label.get(label, set())
                missing = [x for x in np.unique(column.astype(str)).tolist() if x not in known]
                if missing:
                    raise ValueError(
                        f"{edge_set.rel_type}: {len(missing)} {side} ids not among :{label} nodes, e.g. {missing[:3]}"
                    )
