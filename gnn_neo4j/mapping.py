"""Mapping config: which part of a Neo4j graph is the attack graph, and how to read it.

One YAML format (documented in README "Mapping config"), validated on load and again against the
database before use. Labels, relationship types and property names from a mapping are the only
identifiers ever placed into Cypher text, so they are checked against a strict pattern here.

Example (abridged)::

    version: 1
    name: canonical
    key_label: Asset                 # every node that takes part carries it, with a unique id
    id_property: id
    node_labels:                     # kind labels that take part, with their feature properties
      Host:
        features:
          os: {type: categorical, values: [linux, windows]}
          patch_age_days: {type: numeric}
          edr_enabled: {type: boolean}
    attack_relationships:            # relationship types an attacker can traverse
      CAN_REACH:
        prior: 0.3                   # prior exploit probability (weak label when no outcomes exist)
        prior_source: "why this number"
        features:
          port: {type: categorical}
    entry_points: {property: internet_exposed, equals: true}   # or {label: EntryPoint}
    crown_jewels: {property: critical, equals: true}           # or {label: CrownJewel}
    training_labels: {property: exploited}                     # boolean edge property, outcomes
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
FEATURE_TYPES = ("categorical", "numeric", "boolean")
BUILTIN_MAPPINGS = ("canonical", "bloodhound")


class MappingError(ValueError):
    """A mapping file is malformed or names something the graph does not have."""


def check_identifier(value: Any, what: str, source: str = "mapping") -> str:
    """Return ``value`` if it is a safe Cypher identifier, else raise MappingError naming it."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise MappingError(f"{source}: {what} {value!r} is not a valid identifier (letters, digits, _)")
    return value


@dataclass(frozen=True)
class Feature:
    name: str
    type: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeKind:
    label: str
    features: tuple[Feature, ...] = ()


@dataclass(frozen=True)
class AttackRelationship:
    rel_type: str
    prior: float | None = None
    prior_source: str = ""
    features: tuple[Feature, ...] = ()


@dataclass(frozen=True)
class Marker:
    """How entry points / crown jewels are marked: a label, or a property equal to a value."""

    label: str | None = None
    property: str | None = None
    equals: Any = True


@dataclass(frozen=True)
class Mapping:
    name: str
    key_label: str
    id_property: str
    node_kinds: tuple[NodeKind, ...]
    attack_relationships: tuple[AttackRelationship, ...]
    entry_points: Marker
    crown_jewels: Marker
    label_property: str | None = "exploited"
    feedback_property: str = "gnn_feedback"
    source: str = field(default="mapping", compare=False)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(kind.label for kind in self.node_kinds)

    @property
    def rel_types(self) -> tuple[str, ...]:
        return tuple(rel.rel_type for rel in self.attack_relationships)

    def node_kind(self, label: str) -> NodeKind:
        for kind in self.node_kinds:
            if kind.label == label:
                return kind
        raise MappingError(f"{self.source}: unknown node label {label!r}; known: {', '.join(self.labels)}")

    def attack_relationship(self, rel_type: str) -> AttackRelationship:
        for rel in self.attack_relationships:
            if rel.rel_type == rel_type:
                return rel
        raise MappingError(
            f"{self.source}: unknown attack relationship type {rel_type!r}; known: {', '.join(self.rel_types)}"
        )

    def priors(self) -> dict[str, float]:
        return {rel.rel_type: rel.prior for rel in self.attack_relationships if rel.prior is not None}

    def property_names(self) -> set[str]:
        """Every property the mapping reads (for checks against the database)."""
        names = {self.id_property}
        for kind in self.node_kinds:
            names.update(f.name for f in kind.features)
        for rel in self.attack_relationships:
            names.update(f.name for f in rel.features)
        for marker in (self.entry_points, self.crown_jewels):
            if marker.property:
                names.add(marker.property)
        return names


def _features(raw: Any, where: str, source: str) -> tuple[Feature, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise MappingError(f"{source}: {where}.features must be a mapping of property -> {{type: ...}}")
    features = []
    for name, spec in raw.items():
        check_identifier(name, f"feature property in {where}", source)
        if isinstance(spec, str):
            spec = {"type": spec}
        if not isinstance(spec, dict) or spec.get("type") not in FEATURE_TYPES:
            raise MappingError(f"{source}: {where}.features.{name}.type must be one of {', '.join(FEATURE_TYPES)}")
        values = spec.get("values") or ()
        if not isinstance(values, (list, tuple)):
            raise MappingError(f"{source}: {where}.features.{name}.values must be a list")
        features.append(Feature(name=name, type=spec["type"], values=tuple(str(v) for v in values)))
    return tuple(features)


def _marker(raw: Any, what: str, source: str) -> Marker:
    if not isinstance(raw, dict) or not (("label" in raw) ^ ("property" in raw)):
        raise MappingError(f"{source}: {what} needs exactly one of 'label' or 'property'")
    if "label" in raw:
        return Marker(label=check_identifier(raw["label"], f"{what}.label", source))
    return Marker(property=check_identifier(raw["property"], f"{what}.property", source), equals=raw.get("equals", True))


def parse_mapping(raw: Any, source: str = "mapping") -> Mapping:
    """Validate a parsed mapping document and build a `Mapping`.

    Raises:
        MappingError: naming the file (``source``) and the offending key.
    """
    if not isinstance(raw, dict):
        raise MappingError(f"{source}: top level must be a mapping")
    unknown = set(raw) - {
        "version", "name", "key_label", "id_property", "node_labels", "attack_relationships",
        "entry_points", "crown_jewels", "training_labels", "feedback_property", "description",
    }
    if unknown:
        raise MappingError(f"{source}: unknown keys {', '.join(sorted(unknown))}")
    if raw.get("version", 1) != 1:
        raise MappingError(f"{source}: unsupported mapping version {raw.get('version')!r} (expected 1)")
    node_labels = raw.get("node_labels")
    if not isinstance(node_labels, dict) or not node_labels:
        raise MappingError(f"{source}: node_labels must name at least one label")
    kinds = tuple(
        NodeKind(label=check_identifier(label, "node label", source),
                 features=_features((spec or {}).get("features"), f"node_labels.{label}", source))
        for label, spec in node_labels.items()
    )
    rels_raw = raw.get("attack_relationships")
    if not isinstance(rels_raw, dict) or not rels_raw:
        raise MappingError(f"{source}: attack_relationships must name at least one relationship type")
    rels = []
    for rel_type, spec in rels_raw.items():
        spec = spec or {}
        prior = spec.get("prior")
        if prior is not None and (not isinstance(prior, (int, float)) or not 0.0 < float(prior) < 1.0):
            raise MappingError(f"{source}: attack_relationships.{rel_type}.prior must be a number in (0, 1)")
        if prior is not None and not spec.get("prior_source"):
            raise MappingError(f"{source}: attack_relationships.{rel_type}.prior needs a prior_source")
        rels.append(AttackRelationship(
            rel_type=check_identifier(rel_type, "relationship type", source),
            prior=None if prior is None else float(prior),
            prior_source=str(spec.get("prior_source", "")),
            features=_features(spec.get("features"), f"attack_relationships.{rel_type}", source),
        ))
    training = raw.get("training_labels") or {}
    label_property = training.get("property") if isinstance(training, dict) else None
    return Mapping(
        name=str(raw.get("name", Path(source).stem)),
        key_label=check_identifier(raw.get("key_label", "Asset"), "key_label", source),
        id_property=check_identifier(raw.get("id_property", "id"), "id_property", source),
        node_kinds=kinds,
        attack_relationships=tuple(rels),
        entry_points=_marker(raw.get("entry_points"), "entry_points", source),
        crown_jewels=_marker(raw.get("crown_jewels"), "crown_jewels", source),
        label_property=None if label_property is None else check_identifier(label_property, "training_labels.property", source),
        feedback_property=check_identifier(raw.get("feedback_property", "gnn_feedback"), "feedback_property", source),
        source=source,
    )


def load_mapping(name_or_path: str | Path = "canonical") -> Mapping:
    """Load a built-in mapping by name (``canonical``, ``bloodhound``) or a YAML file by path."""
    if str(name_or_path) in BUILTIN_MAPPINGS:
        text = resources.files("gnn_neo4j.mappings").joinpath(f"{name_or_path}.yaml").read_text(encoding="utf-8")
        source = f"built-in mapping {name_or_path}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise MappingError(f"mapping file {path} does not exist (built-in mappings: {', '.join(BUILTIN_MAPPINGS)})")
        text = path.read_text(encoding="utf-8")
        source = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{source}: not valid YAML: {exc}") from exc
    return parse_mapping(raw, source)
