"""Feature encoding: `AttackGraphData` -> node and edge feature tensors, fitted once on training data.

A `FeatureSpec` is fitted on the training graph(s) and saved with the model (`to_dict` / `from_dict`, plain JSON),
so scoring encodes a new graph exactly as training did. Column layout (names in `node_feature_names` /
`edge_feature_names`):

Node features, in this order:

- node kind one-hot over the kinds of the mapping (or seen in training), plus an ``unknown`` column;
- entry-point and crown-jewel flags;
- degree: ``log1p(in-degree)`` and ``log1p(out-degree)`` over attack edges (when ``degree`` is on);
- per mapped property, by type:

  - numeric: ``(x - mean) / std`` with mean/std from training (missing -> 0), for non-negative properties also the
    standardised ``log1p(x)`` (skewed counts and ages), then a missing indicator;
  - boolean: 1.0 / 0.0 (missing -> 0), then a missing indicator;
  - categorical: one-hot over the mapping's values followed by values first seen in training, an ``unknown``
    column for values never seen, then a missing indicator.

Edge features: relationship-type one-hot (plus ``unknown``), then the mapped edge properties encoded the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.mapping import Mapping

log = logging.getLogger(__name__)

SPEC_VERSION = 1
UNKNOWN = "__unknown__"
_STD_FLOOR = 1e-6


@dataclass
class ColumnSpec:
    """How one property is encoded.

    Attributes:
        name: property name.
        type: ``numeric``, ``boolean`` or ``categorical``.
        values: categorical values in one-hot order (mapping values first, then values seen in training).
        mean, std: training statistics of a numeric property (raw scale).
        log: whether a standardised ``log1p`` column follows (non-negative numeric properties).
        log_mean, log_std: training statistics of ``log1p(x)``.
    """

    name: str
    type: str
    values: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0
    log: bool = False
    log_mean: float = 0.0
    log_std: float = 1.0

    @property
    def width(self) -> int:
        if self.type == "numeric":
            return 3 if self.log else 2
        if self.type == "boolean":
            return 2
        return len(self.values) + 2

    def names(self, prefix: str) -> list[str]:
        base = f"{prefix}{self.name}"
        if self.type == "numeric":
            return [base] + ([f"{base}:log1p"] if self.log else []) + [f"{base}:missing"]
        if self.type == "boolean":
            return [base, f"{base}:missing"]
        return [f"{base}={v}" for v in self.values] + [f"{base}={UNKNOWN}", f"{base}:missing"]

    def encode(self, column: np.ndarray | None, n: int) -> np.ndarray:
        """Encode a raw column (as `AttackGraphData` stores it) into ``(n, width)`` float32."""
        out = np.zeros((n, self.width), dtype=np.float32)
        if column is None:
            out[:, -1] = 1.0
            return out
        if self.type in ("numeric", "boolean"):
            values = np.asarray(column, dtype=np.float64)
            missing = ~np.isfinite(values)
            safe = np.where(missing, 0.0, values)
            if self.type == "numeric":
                out[:, 0] = np.where(missing, 0.0, (safe - self.mean) / self.std)
                if self.log:
                    logged = np.log1p(np.maximum(safe, 0.0))
                    out[:, 1] = np.where(missing, 0.0, (logged - self.log_mean) / self.log_std)
            else:
                out[:, 0] = np.where(missing, 0.0, safe != 0.0)
            out[:, -1] = missing
            return out
        position = {value: i for i, value in enumerate(self.values)}
        unknown = len(self.values)
        for row, value in enumerate(np.asarray(column, dtype=object).tolist()):
            if value is None:
                out[row, -1] = 1.0
            else:
                out[row, position.get(str(value), unknown)] = 1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "values": list(self.values), "mean": self.mean,
                "std": self.std, "log": self.log, "log_mean": self.log_mean, "log_std": self.log_std}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "ColumnSpec":
        return cls(name=str(raw["name"]), type=str(raw["type"]), values=tuple(str(v) for v in raw["values"]),
                   mean=float(raw["mean"]), std=float(raw["std"]), log=bool(raw["log"]),
                   log_mean=float(raw["log_mean"]), log_std=float(raw["log_std"]))


@dataclass
class FeatureSpec:
    """A fitted feature encoding (see the module docstring for the column layout).

    Build one with `FeatureSpec.fit`; encode graphs with `encode`; persist with `to_dict` / `from_dict`.

    Attributes:
        node_kinds: kind labels in one-hot order.
        rel_types: relationship types in one-hot order.
        node_columns: encoding of each node property.
        edge_columns: encoding of each edge property.
        degree: whether degree features are included.
        markers: whether entry-point / crown-jewel flags are included.
        mapping: mapping name the spec was fitted for.
    """

    node_kinds: tuple[str, ...]
    rel_types: tuple[str, ...]
    node_columns: tuple[ColumnSpec, ...] = ()
    edge_columns: tuple[ColumnSpec, ...] = ()
    degree: bool = True
    markers: bool = True
    mapping: str = ""
    _names: tuple[list[str], list[str]] | None = field(default=None, init=False, repr=False, compare=False)

    # -- fitting ----------------------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        train: AttackGraphData | Sequence[AttackGraphData],
        mapping: Mapping | None = None,
        *,
        degree: bool = True,
        markers: bool = True,
    ) -> "FeatureSpec":
        """Fit the encoding on training graphs only.

        Types and declared categorical values come from ``mapping`` when given, else from the graphs'
        ``prop_types`` / ``categories`` (which `from_property_graph` fills from the mapping). Means, standard
        deviations and categorical values seen come from the training graphs.

        Args:
            train: one training graph or several.
            mapping: the mapping the graphs were read with.
            degree: include log-degree features.
            markers: include entry-point / crown-jewel flags.

        Returns:
            The fitted spec.

        Raises:
            ValueError: no training graph, or graphs read with different mappings.
        """
        graphs = [train] if isinstance(train, AttackGraphData) else list(train)
        if not graphs:
            raise ValueError("FeatureSpec.fit needs at least one training graph")
        names = {g.mapping for g in graphs}
        if len(names) != 1:
            raise ValueError(f"training graphs were read with different mappings: {sorted(names)}")
        if mapping is not None:
            kinds = list(mapping.labels)
            rel_types = list(mapping.rel_types)
            node_types, edge_types, declared = _types_from_mapping(mapping)
        else:
            kinds, rel_types = [], []
            node_types, edge_types, declared = {}, {}, {}
            for g in graphs:
                for name, ftype in g.prop_types.items():
                    node_types.setdefault(name, ftype)
                for name, ftype in g.edge_prop_types.items():
                    edge_types.setdefault(name, ftype)
                for name, values in g.categories.items():
                    merged = list(declared.get(name, ()))
                    merged.extend(v for v in values if v not in merged)
                    declared[name] = tuple(merged)
        for g in graphs:
            kinds.extend(k for k in dict.fromkeys(g.node_kind.tolist()) if k not in kinds)
            rel_types.extend(r for r in dict.fromkeys(g.edge_type.tolist()) if r not in rel_types)
        node_columns = tuple(
            _fit_column(name, ftype, [g.node_props.get(name) for g in graphs], declared.get(name, ()))
            for name, ftype in node_types.items())
        edge_columns = tuple(
            _fit_column(name, ftype, [g.edge_props.get(name) for g in graphs], declared.get(name, ()))
            for name, ftype in edge_types.items())
        spec = cls(node_kinds=tuple(kinds), rel_types=tuple(rel_types), node_columns=node_columns,
                   edge_columns=edge_columns, degree=degree, markers=markers, mapping=graphs[0].mapping)
        log.info("fitted feature spec: %d node features, %d edge features", spec.node_dim, spec.edge_dim)
        return spec

    # -- layout -----------------------------------------------------------------------------------------------

    @property
    def node_dim(self) -> int:
        return (len(self.node_kinds) + 1 + (2 if self.markers else 0) + (2 if self.degree else 0)
                + sum(c.width for c in self.node_columns))

    @property
    def edge_dim(self) -> int:
        return len(self.rel_types) + 1 + sum(c.width for c in self.edge_columns)

    @property
    def node_feature_names(self) -> list[str]:
        """Name of every node feature column, in order."""
        return self._feature_names()[0]

    @property
    def edge_feature_names(self) -> list[str]:
        """Name of every edge feature column, in order."""
        return self._feature_names()[1]

    def _feature_names(self) -> tuple[list[str], list[str]]:
        if self._names is None:
            node = [f"kind={k}" for k in self.node_kinds] + [f"kind={UNKNOWN}"]
            if self.markers:
                node += ["entry_point", "crown_jewel"]
            if self.degree:
                node += ["log1p_in_degree", "log1p_out_degree"]
            for column in self.node_columns:
                node += column.names("")
            edge = [f"rel={r}" for r in self.rel_types] + [f"rel={UNKNOWN}"]
            for column in self.edge_columns:
                edge += column.names("")
            self._names = (node, edge)
        return self._names

    # -- encoding ---------------------------------------------------------------------------------------------

    def encode_nodes(self, data: AttackGraphData) -> np.ndarray:
        """Node features as a float32 array of shape (N, node_dim)."""
        n = data.num_nodes
        parts = [_one_hot(data.node_kind, self.node_kinds, n)]
        if self.markers:
            parts.append(np.stack([data.entry_mask, data.crown_mask], axis=1).astype(np.float32))
        if self.degree:
            in_degree = np.bincount(data.edge_dst, minlength=n)
            out_degree = np.bincount(data.edge_src, minlength=n)
            parts.append(np.log1p(np.stack([in_degree, out_degree], axis=1)).astype(np.float32))
        for column in self.node_columns:
            parts.append(column.encode(data.node_props.get(column.name), n))
        return np.concatenate(parts, axis=1) if parts else np.zeros((n, 0), dtype=np.float32)

    def encode_edges(self, data: AttackGraphData) -> np.ndarray:
        """Edge features as a float32 array of shape (E, edge_dim)."""
        e = data.num_edges
        parts = [_one_hot(data.edge_type, self.rel_types, e)]
        for column in self.edge_columns:
            parts.append(column.encode(data.edge_props.get(column.name), e))
        return np.concatenate(parts, axis=1)

    def encode(self, data: AttackGraphData) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode a graph.

        Args:
            data: the attack graph (any graph read with the same mapping).

        Returns:
            ``(x, edge_attr)``: FloatTensor[N, node_dim] and FloatTensor[E, edge_dim].

        Raises:
            ValueError: the graph was read with a different mapping than the spec was fitted for.
        """
        if self.mapping and data.mapping and data.mapping != self.mapping:
            raise ValueError(f"feature spec was fitted for mapping {self.mapping!r}, graph uses {data.mapping!r}")
        x = torch.from_numpy(self.encode_nodes(data))
        edge_attr = torch.from_numpy(self.encode_edges(data))
        return x, edge_attr

    # -- persistence ------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description that `from_dict` turns back into an identical spec."""
        return {
            "version": SPEC_VERSION,
            "mapping": self.mapping,
            "node_kinds": list(self.node_kinds),
            "rel_types": list(self.rel_types),
            "degree": self.degree,
            "markers": self.markers,
            "node_columns": [c.to_dict() for c in self.node_columns],
            "edge_columns": [c.to_dict() for c in self.edge_columns],
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "FeatureSpec":
        """Rebuild a spec from `to_dict` output.

        Raises:
            ValueError: an unsupported spec version.
        """
        if raw.get("version") != SPEC_VERSION:
            raise ValueError(f"unsupported feature spec version {raw.get('version')!r} (expected {SPEC_VERSION})")
        return cls(
            node_kinds=tuple(raw["node_kinds"]),
            rel_types=tuple(raw["rel_types"]),
            node_columns=tuple(ColumnSpec.from_dict(c) for c in raw["node_columns"]),
            edge_columns=tuple(ColumnSpec.from_dict(c) for c in raw["edge_columns"]),
            degree=bool(raw["degree"]),
            markers=bool(raw["markers"]),
            mapping=str(raw.get("mapping", "")),
        )


def _types_from_mapping(mapping: Mapping) -> tuple[dict[str, str], dict[str, str], dict[str, tuple[str, ...]]]:
    node_types: dict[str, str] = {}
    edge_types: dict[str, str] = {}
    declared: dict[str, list[str]] = {}
    for kind in mapping.node_kinds:
        for feature in kind.features:
            node_types.setdefault(feature.name, feature.type)
            values = declared.setdefault(feature.name, [])
            values.extend(v for v in feature.values if v not in values)
    for rel in mapping.attack_relationships:
        for feature in rel.features:
            edge_types.setdefault(feature.name, feature.type)
            values = declared.setdefault(feature.name, [])
            values.extend(v for v in feature.values if v not in values)
    return node_types, edge_types, {k: tuple(v) for k, v in declared.items()}


def _fit_column(name: str, ftype: str, columns: list[np.ndarray | None], declared: tuple[str, ...]) -> ColumnSpec:
    present = [c for c in columns if c is not None]
    if ftype == "categorical":
        values = list(declared)
        for column in present:
            for value in np.asarray(column, dtype=object).tolist():
                if value is not None and str(value) not in values:
                    values.append(str(value))
        return ColumnSpec(name=name, type=ftype, values=tuple(values))
    if ftype == "boolean":
        return ColumnSpec(name=name, type=ftype)
    values = np.concatenate([np.asarray(c, dtype=np.float64) for c in present]) if present else np.empty(0)
    values = values[np.isfinite(values)]
    if not len(values):
        return ColumnSpec(name=name, type=ftype)
    mean = float(values.mean())
    std = float(values.std())
    std = std if std > _STD_FLOOR else 1.0
    if values.min() >= 0.0:
        logged = np.log1p(values)
        log_std = float(logged.std())
        return ColumnSpec(name=name, type=ftype, mean=mean, std=std, log=True, log_mean=float(logged.mean()),
                          log_std=log_std if log_std > _STD_FLOOR else 1.0)
    return ColumnSpec(name=name, type=ftype, mean=mean, std=std)


def _one_hot(values: np.ndarray, vocabulary: tuple[str, ...], n: int) -> np.ndarray:
    out = np.zeros((n, len(vocabulary) + 1), dtype=np.float32)
    position = {v: i for i, v in enumerate(vocabulary)}
    unknown = len(vocabulary)
    index = np.fromiter((position.get(str(v), unknown) for v in np.asarray(values, dtype=object).tolist()),
                        dtype=np.int64, count=n)
    out[np.arange(n), index] = 1.0
    return out

