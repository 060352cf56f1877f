"""The in-memory attack graph the learning code consumes (`AttackGraphData`).

Two producers build it: `from_property_graph` here (a `PropertyGraph` from the generator or an importer) and the
Neo4j exporter (GDS), which mirrors the same rules. It holds only what a database shows: mapped node kinds, attack
relationships, mapped feature properties, the entry-point / crown-jewel markers, the outcome label property and the
analyst feedback property. Hidden ground truth never enters it.

Conventions:

- node order is stable: node sets in graph order, nodes in set order; ``node_ids[i]`` is the ``id`` of tensor index i;
- numeric and boolean properties are float64 arrays with NaN for missing (booleans as 1.0 / 0.0); categorical
  properties are object arrays of ``str`` with ``None`` for missing;
- a property a node kind does not carry is missing for that node;
- ``edge_label`` / ``edge_feedback`` are 1.0 / 0.0 and NaN where there is no label.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gnn_neo4j.graph import PropertyGraph
from gnn_neo4j.mapping import Feature, Mapping, Marker

log = logging.getLogger(__name__)

_TRUE_STRINGS = frozenset({"true", "yes", "1", "t", "y"})
_FALSE_STRINGS = frozenset({"false", "no", "0", "f", "n"})


class AttackGraphError(ValueError):
    """An attack graph is malformed or does not match its mapping."""


@dataclass
class AttackGraphData:
    """One attack graph as arrays: nodes, attack edges, features, markers and labels.

    Attributes:
        node_ids: ``id`` of each node (str), unique; index = tensor index.
        node_kind: kind label per node (one of the mapping's node labels).
        node_props: property name -> array of shape (N,): float64 (NaN missing) for numeric / boolean properties,
            object array of str (None missing) for categorical ones.
        edge_src: source node index per attack edge (int64).
        edge_dst: target node index per attack edge (int64).
        edge_type: relationship type per edge (str).
        edge_props: property name -> array of shape (E,), same conventions as ``node_props``.
        edge_label: observed outcome per edge, 1.0 exploited / 0.0 not exploited / NaN unlabelled.
        edge_feedback: analyst verdict per edge (``gnn_feedback``), 1.0 / 0.0 / NaN where none.
        entry_mask: whether each node is an entry point.
        crown_mask: whether each node is a crown jewel.
        mapping: name of the mapping the graph was read with.
        prop_types: property name -> feature type (``numeric``, ``boolean``, ``categorical``) for node properties;
            a producer should fill it from the mapping (unlisted columns default to ``categorical`` for object arrays
            and ``numeric`` otherwise, so booleans need listing).
        edge_prop_types: the same for edge properties.
        categories: property name -> categorical values the mapping declares (node and edge properties).

    Raises:
        AttackGraphError: on inconsistent lengths, duplicate or missing ids, edges to unknown nodes, labels that
            are not 0/1/NaN (see `validate`).
    """

    node_ids: np.ndarray
    node_kind: np.ndarray
    node_props: dict[str, np.ndarray]
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_type: np.ndarray
    edge_props: dict[str, np.ndarray]
    edge_label: np.ndarray
    edge_feedback: np.ndarray
    entry_mask: np.ndarray
    crown_mask: np.ndarray
    mapping: str
    prop_types: dict[str, str] = field(default_factory=dict)
    edge_prop_types: dict[str, str] = field(default_factory=dict)
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _index: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.node_ids = np.asarray(self.node_ids, dtype=object)
        self.node_kind = np.asarray(self.node_kind, dtype=object)
        self.edge_src = np.asarray(self.edge_src, dtype=np.int64)
        self.edge_dst = np.asarray(self.edge_dst, dtype=np.int64)
        self.edge_type = np.asarray(self.edge_type, dtype=object)
        self.edge_label = np.asarray(self.edge_label, dtype=np.float64)
        self.edge_feedback = np.asarray(self.edge_feedback, dtype=np.float64)
        self.entry_mask = np.asarray(self.entry_mask, dtype=bool)
        self.crown_mask = np.asarray(self.crown_mask, dtype=bool)
        self.node_props = {name: _normalise_column(col, self.prop_types.get(name), name)
                           for name, col in self.node_props.items()}
        self.edge_props = {name: _normalise_column(col, self.edge_prop_types.get(name), name)
                           for name, col in self.edge_props.items()}
        for name, col in self.node_props.items():
            self.prop_types.setdefault(name, "categorical" if col.dtype == object else "numeric")
        for name, col in self.edge_props.items():
            self.edge_prop_types.setdefault(name, "categorical" if col.dtype == object else "numeric")
        self.validate()

    # -- sizes and lookups ------------------------------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def num_edges(self) -> int:
        return len(self.edge_src)

    @property
    def entry_points(self) -> np.ndarray:
        """Node indices of the entry points."""
        return np.flatnonzero(self.entry_mask)

    @property
    def crown_jewels(self) -> np.ndarray:
        """Node indices of the crown jewels."""
        return np.flatnonzero(self.crown_mask)

    @property
    def labelled_mask(self) -> np.ndarray:
        """Edges with an outcome label or analyst feedback."""
        return ~np.isnan(self.edge_label) | ~np.isnan(self.edge_feedback)

    def id_index(self, ids: Any = None) -> dict[str, int] | np.ndarray:
        """Look up tensor indices by node id.

        Args:
            ids: an iterable of node ids; ``None`` returns the whole ``{id: index}`` dict.

        Returns:
            The dict, or an int64 array of indices (-1 for ids not in the graph).
        """
        if self._index is None:
            self._index = {str(node_id): i for i, node_id in enumerate(self.node_ids.tolist())}
        if ids is None:
            return self._index
        return np.fromiter((self._index.get(str(x), -1) for x in ids), dtype=np.int64)

    def validate(self, mapping: Mapping | None = None) -> None:
        """Check shapes, ids, edge endpoints, labels and (with ``mapping``) kinds and relationship types.

        Raises:
            AttackGraphError: naming the first problem found.
        """
        n, e = len(self.node_ids), len(self.edge_src)
        for name, arr, size in (("node_kind", self.node_kind, n), ("entry_mask", self.entry_mask, n),
                                ("crown_mask", self.crown_mask, n), ("edge_dst", self.edge_dst, e),
                                ("edge_type", self.edge_type, e), ("edge_label", self.edge_label, e),
                                ("edge_feedback", self.edge_feedback, e)):
            if arr.ndim != 1 or len(arr) != size:
                raise AttackGraphError(f"{name} has shape {arr.shape}, expected ({size},)")
        for where, props, size in (("node", self.node_props, n), ("edge", self.edge_props, e)):
            for name, col in props.items():
                if col.ndim != 1 or len(col) != size:
                    raise AttackGraphError(f"{where} property {name!r} has shape {col.shape}, expected ({size},)")
        missing_id = [i for i, x in enumerate(self.node_ids.tolist()) if x is None or str(x) == ""
                      or (isinstance(x, float) and math.isnan(x))]
        if missing_id:
            raise AttackGraphError(f"{len(missing_id)} nodes have no id, e.g. at index {missing_id[:3]}")
        ids = self.node_ids.astype(str)
        unique, counts = np.unique(ids, return_counts=True)
        if len(unique) != n:
            raise AttackGraphError(f"duplicate node ids: {', '.join(unique[counts > 1][:5].tolist())}")
        for name, column in (("edge_src", self.edge_src), ("edge_dst", self.edge_dst)):
            if e and (column.min() < 0 or column.max() >= n):
                bad = column[(column < 0) | (column >= n)]
                raise AttackGraphError(f"{name} points to unknown nodes (indices {bad[:3].tolist()}, {n} nodes)")
        for name, labels in (("edge_label", self.edge_label), ("edge_feedback", self.edge_feedback)):
            known = labels[~np.isnan(labels)]
            if not np.all((known == 0.0) | (known == 1.0)):
                raise AttackGraphError(f"{name} must hold 1.0, 0.0 or NaN")
        if mapping is not None:
            unknown = sorted(set(self.node_kind.tolist()) - set(mapping.labels))
            if unknown:
                raise AttackGraphError(f"node kinds {', '.join(map(str, unknown))} are not labels of mapping "
                                       f"{mapping.name!r} ({', '.join(mapping.labels)})")
            unknown = sorted(set(self.edge_type.tolist()) - set(mapping.rel_types))
            if unknown:
                raise AttackGraphError(f"relationship types {', '.join(map(str, unknown))} are not attack "
                                       f"relationships of mapping {mapping.name!r}")

    def summary(self) -> dict[str, Any]:
        """Counts for logs and run records: nodes, edges, entry points, crown jewels, labels per kind."""
        return {
            "nodes": self.num_nodes,
            "edges": self.num_edges,
            "entry_points": int(self.entry_mask.sum()),
            "crown_jewels": int(self.crown_mask.sum()),
            "outcome_labels": int((~np.isnan(self.edge_label)).sum()),
            "feedback_labels": int((~np.isnan(self.edge_feedback)).sum()),
        }


def from_property_graph(graph: PropertyGraph, mapping: Mapping, *, drop_dangling: bool = False) -> AttackGraphData:
    """Read the attack graph out of a `PropertyGraph` with a mapping (what the Neo4j exporter mirrors).

    Takes node sets whose key label is the mapping's ``key_label`` (each must carry exactly one of the mapping's
    node labels: its kind), the mapping's attack relationship types, the mapped feature properties, the marker
    properties (for the masks only), the training-label property and the feedback property. Everything else
    (context nodes, context relationships, unmapped properties) is left out.

    Args:
        graph: the property graph.
        mapping: the mapping that says what the attack graph is.
        drop_dangling: drop (and log) attack edges whose endpoint is not a mapped node instead of raising.

    Returns:
        The attack graph.

    Raises:
        AttackGraphError: a key-label node set with no or several mapped kind labels, missing or duplicate ids,
            attack edges to nodes outside the attack graph, a label property that is not boolean, feature properties
            declared with conflicting types.
    """
    node_types, categories = _node_feature_types(mapping)
    edge_types, edge_categories = _edge_feature_types(mapping)
    categories.update(edge_categories)
    known = set(mapping.labels)

    ids, kinds, entry, crown = [], [], [], []
    columns: dict[str, list[np.ndarray]] = {name: [] for name in node_types}
    for node_set in graph.nodes:
        if node_set.key_label != mapping.key_label:
            continue
        kind_labels = [label for label in node_set.labels if label in known]
        if len(kind_labels) != 1:
            other = [label for label in node_set.labels if label != mapping.key_label]
            what = "no label" if not kind_labels else f"several labels ({', '.join(kind_labels)})"
            raise AttackGraphError(
                f"{len(node_set)} :{':'.join(node_set.labels)} nodes carry {what} of mapping {mapping.name!r}; "
                f"unknown labels: {', '.join(other) or 'none'}; the mapping knows: {', '.join(mapping.labels)}")
        kind = kind_labels[0]
        n = len(node_set)
        ids.append(np.asarray(node_set.ids, dtype=object))
        kinds.append(np.full(n, kind, dtype=object))
        entry.append(_marker_mask(node_set.labels, node_set.properties, mapping.entry_points, n))
        crown.append(_marker_mask(node_set.labels, node_set.properties, mapping.crown_jewels, n))
        kind_features = {f.name for f in mapping.node_kind(kind).features}
        for name, ftype in node_types.items():
            raw = node_set.properties.get(name) if name in kind_features else None
            columns[name].append(_parse_column(raw, ftype, n, f"{kind}.{name}"))

    node_ids = np.concatenate(ids) if ids else np.empty(0, dtype=object)
    bad = [i for i, x in enumerate(node_ids.tolist()) if x is None or (isinstance(x, float) and math.isnan(x))
           or str(x) == ""]
    if bad:
        raise AttackGraphError(f"{len(bad)} :{mapping.key_label} nodes have no {mapping.id_property}")
    node_ids = np.asarray([str(x) for x in node_ids.tolist()], dtype=object)
    index = {node_id: i for i, node_id in enumerate(node_ids.tolist())}
    if len(index) != len(node_ids):
        unique, counts = np.unique(node_ids.astype(str), return_counts=True)
        raise AttackGraphError(f"duplicate {mapping.id_property} values: {', '.join(unique[counts > 1][:5].tolist())}")

    src_parts, dst_parts, type_parts, label_parts, feedback_parts = [], [], [], [], []
    edge_columns: dict[str, list[np.ndarray]] = {name: [] for name in edge_types}
    rel_types = set(mapping.rel_types)
    for edge_set in graph.edges:
        if edge_set.rel_type not in rel_types:
            continue
        n = len(edge_set)
        src = np.fromiter((index.get(str(x), -1) for x in edge_set.src.tolist()), dtype=np.int64, count=n)
        dst = np.fromiter((index.get(str(x), -1) for x in edge_set.dst.tolist()), dtype=np.int64, count=n)
        keep = (src >= 0) & (dst >= 0)
        if not keep.all():
            missing = sorted({str(x) for x, ok in zip(edge_set.src.tolist(), src >= 0) if not ok}
                             | {str(x) for x, ok in zip(edge_set.dst.tolist(), dst >= 0) if not ok})
            message = (f"{int((~keep).sum())} {edge_set.rel_type} edges connect nodes outside the attack graph "
                       f"of mapping {mapping.name!r}, e.g. {missing[:3]}")
            if not drop_dangling:
                raise AttackGraphError(message)
            log.warning("%s; dropped", message)
        rel_features = {f.name for f in mapping.attack_relationship(edge_set.rel_type).features}
        src_parts.append(src[keep])
        dst_parts.append(dst[keep])
        type_parts.append(np.full(int(keep.sum()), edge_set.rel_type, dtype=object))
        label_raw = edge_set.properties.get(mapping.label_property) if mapping.label_property else None
        label_parts.append(_parse_column(label_raw, "boolean", n, f"{edge_set.rel_type}.{mapping.label_property}",
                                         strict=True)[keep])
        feedback_raw = edge_set.properties.get(mapping.feedback_property)
        feedback_parts.append(_parse_column(feedback_raw, "boolean", n,
                                            f"{edge_set.rel_type}.{mapping.feedback_property}", strict=True)[keep])
        for name, ftype in edge_types.items():
            raw = edge_set.properties.get(name) if name in rel_features else None
            edge_columns[name].append(_parse_column(raw, ftype, n, f"{edge_set.rel_type}.{name}")[keep])

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    def merge(cols: dict[str, list[np.ndarray]], types: dict[str, str]) -> dict[str, np.ndarray]:
        return {name: cat(parts, object if types[name] == "categorical" else np.float64)
                for name, parts in cols.items()}

    data = AttackGraphData(
        node_ids=node_ids,
        node_kind=cat(kinds, object),
        node_props=merge(columns, node_types),
        edge_src=cat(src_parts, np.int64),
        edge_dst=cat(dst_parts, np.int64),
        edge_type=cat(type_parts, object),
        edge_props=merge(edge_columns, edge_types),
        edge_label=cat(label_parts, np.float64),
        edge_feedback=cat(feedback_parts, np.float64),
        entry_mask=cat(entry, bool),
        crown_mask=cat(crown, bool),
        mapping=mapping.name,
        prop_types=dict(node_types),
        edge_prop_types=dict(edge_types),
        categories=categories,
    )
    data.validate(mapping)
    log.info("attack graph from property graph: %s", data.summary())
    return data


# -- helpers --------------------------------------------------------------------------------------------------


def _merge_feature(types: dict[str, str], categories: dict[str, tuple[str, ...]], feature: Feature,
                   where: str) -> None:
    previous = types.get(feature.name)
    if previous is not None and previous != feature.type:
        raise AttackGraphError(f"feature {feature.name!r} is {previous} elsewhere but {feature.type} in {where}")
    types[feature.name] = feature.type
    if feature.type == "categorical":
        values = list(categories.get(feature.name, ()))
        values.extend(v for v in feature.values if v not in values)
        categories[feature.name] = tuple(values)


def _node_feature_types(mapping: Mapping) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    types: dict[str, str] = {}
    categories: dict[str, tuple[str, ...]] = {}
    for kind in mapping.node_kinds:
        for feature in kind.features:
            _merge_feature(types, categories, feature, kind.label)
    return types, categories


def _edge_feature_types(mapping: Mapping) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    types: dict[str, str] = {}
    categories: dict[str, tuple[str, ...]] = {}
    for rel in mapping.attack_relationships:
        for feature in rel.features:
            _merge_feature(types, categories, feature, rel.rel_type)
    return types, categories


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _to_bool(value: Any, where: str, strict: bool) -> float:
    if _is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return 1.0 if value else 0.0
    if isinstance(value, (int, np.integer, float, np.floating)) and float(value) in (0.0, 1.0):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_STRINGS:
            return 1.0
        if text in _FALSE_STRINGS:
            return 0.0
        if not text:
            return math.nan
    if strict:
        raise AttackGraphError(f"{where}: {value!r} is not a boolean (true/false)")
    log.debug("%s: %r is not a boolean; treated as missing", where, value)
    return math.nan


def _to_float(value: Any) -> float:
    if _is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _to_category(value: Any) -> str | None:
    if _is_missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _parse_column(raw: Any, ftype: str, n: int, where: str, strict: bool = False) -> np.ndarray:
    """A raw property column -> float64 (numeric/boolean, NaN missing) or object str/None (categorical)."""
    if raw is None:
        return np.full(n, None, dtype=object) if ftype == "categorical" else np.full(n, np.nan)
    arr = np.asarray(raw)
    if ftype == "numeric":
        if arr.dtype.kind in "biuf":
            return arr.astype(np.float64)
        return np.fromiter((_to_float(v) for v in arr.tolist()), dtype=np.float64, count=n)
    if ftype == "boolean":
        if arr.dtype.kind == "b":
            return arr.astype(np.float64)
        return np.fromiter((_to_bool(v, where, strict) for v in arr.tolist()), dtype=np.float64, count=n)
    return np.asarray([_to_category(v) for v in arr.tolist()], dtype=object)


def _normalise_column(col: Any, ftype: str | None, name: str) -> np.ndarray:
    arr = np.asarray(col)
    if ftype == "categorical" or (ftype is None and arr.dtype.kind not in "biuf"):
        if arr.dtype == object and all(v is None or isinstance(v, str) for v in arr.tolist()):
            return arr
        return _parse_column(arr, "categorical", len(arr), name)
    if ftype == "boolean":
        return _parse_column(arr, "boolean", len(arr), name)
    return _parse_column(arr, "numeric", len(arr), name)


def _marker_mask(labels: tuple[str, ...], properties: dict[str, np.ndarray], marker: Marker, n: int) -> np.ndarray:
    if marker.label is not None:
        return np.full(n, marker.label in labels, dtype=bool)
    column = properties.get(marker.property)
    if column is None:
        return np.zeros(n, dtype=bool)
    expected = marker.equals
    if isinstance(expected, bool):
        values = _parse_column(column, "boolean", n, str(marker.property))
        return values == (1.0 if expected else 0.0)
    return np.fromiter((not _is_missing(v) and v == expected for v in np.asarray(column).tolist()),
                       dtype=bool, count=n)
