"""Import a graph from one JSON file (``gnn-neo4j import json``): file in, `PropertyGraph` out, nothing written.

Format, version 1 (JSON Schema: ``graph.schema.json`` beside this module)::

    {
      "version": 1,
      "description": "lab network, March",
      "nodes": [
        {"id": "web-1", "labels": ["Host"],
         "properties": {"name": "web-1", "internet_exposed": true, "cvss_max": 9.8}},
        {"id": "db-1", "labels": ["Host", "Database"],
         "properties": {"name": "db-1", "critical": true, "tags": ["pci", "prod"]}}
      ],
      "edges": [
        {"source": "web-1", "target": "db-1", "type": "CAN_REACH",
         "properties": {"port": 5432, "exploited": true}}
      ]
    }

Rules:

- ``nodes`` is required; ``edges``, ``version`` (must be 1) and ``description`` are optional; no other keys,
  and no object may repeat a key.
- Every node becomes ``(:Asset:<labels>... {id})``: ``Asset`` is always the key label (listing it again in
  ``labels`` is allowed and ignored). ``id`` is a non-empty string, unique in the file.
- Labels, relationship types and property names are identifiers: ``^[A-Za-z_][A-Za-z0-9_]*$``, at most 128
  characters (`gnn_neo4j.mapping.IDENTIFIER`); they are the only names ever placed into Cypher text.
- Property values: ``null`` (the property is not set), a string, a number, a boolean, or a list of strings, of
  numbers or of booleans (one type per list, as Neo4j requires; a list mixing integers and decimals is stored
  as decimals). Integers must fit in 64 bits; NaN and Infinity are rejected. Objects and nested lists are
  rejected: flatten them first.
- Reserved, because this tool writes them back: the property ``id`` (use the node's top-level ``id``),
  property names starting with ``gnn_``, labels starting with ``Gnn`` and the relationship type
  ``ATTACK_PATH``.
- Both endpoints of an edge must be nodes of the file (unlike the BloodHound import, no placeholders are
  made up). At most one edge per (source, type, target): the loader MERGEs relationships on that triple, so
  a second one would silently overwrite the first.

Validation is one pass in Python that gives the same verdicts as the JSON Schema (a unit test holds them
together; a schema validator is ~100 times slower on large graphs), plus the rules a schema cannot state
(unique ids, known endpoints, 64-bit integers, finite numbers, reserved names, one edge per triple).
Errors are `GraphImportError` naming the file and the position: ``line L column C`` for JSON syntax and
encoding errors, a JSON pointer (``/nodes/3/labels/0``) for content errors. Entry points, crown jewels and
training labels are ordinary properties here (``internet_exposed``, ``critical``, ``exploited`` in the
canonical mapping); `validate_against_mapping` checks a graph's labels and relationship types against a
mapping before it is loaded.
"""

from __future__ import annotations

import json
import math
import reprlib
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.importers.errors import GraphImportError, ImportReport, json_pointer
from gnn_neo4j.mapping import IDENTIFIER, Mapping

KEY_LABEL = "Asset"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
RESERVED_PROPERTY_PREFIX = "gnn_"
RESERVED_LABEL_PREFIX = "Gnn"
RESERVED_REL_TYPES = frozenset({"ATTACK_PATH"})
MAX_ID_LENGTH = 4096
_IDENTIFIER_RULE = "letters, digits and _, not starting with a digit, at most 128 characters"
_TOP_KEYS = ("version", "description", "nodes", "edges")
_NODE_KEYS = ("id", "labels", "properties")
_EDGE_KEYS = ("source", "target", "type", "properties")
_SHORT = reprlib.Repr()
_SHORT.maxstring = 60
_SHORT.maxother = 60


class RepeatedKeys(dict):
    """A decoded JSON object in which some key appeared more than once (the last value is kept, as Python does);
    `repeated` names those keys so that validation can report them with a JSON pointer."""

    repeated: list[str]


class _BareConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _BareConstant(name)


def _mark_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    marked = RepeatedKeys(result)
    seen: set[str] = set()
    marked.repeated = [key for key, _ in pairs if key in seen or seen.add(key)]
    return marked


def _line_column(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line} column {column}"


def _find_bare_constant(text: str) -> int:
    """Index of the first NaN/Infinity token outside a string (where Python's json accepted one)."""
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "NI-" and text.startswith(("NaN", "Infinity", "-Infinity"), index):
            return index
    return 0


def decode_json(file: str, data: bytes, *, mark_repeated_keys: bool = False) -> Any:
    """Parse UTF-8 JSON bytes (a BOM is allowed) strictly.

    Args:
        file: name used in errors.
        data: the raw bytes.
        mark_repeated_keys: return objects that repeat a key as `RepeatedKeys` (slower; for validation).
    Returns:
        The decoded document.
    Raises:
        GraphImportError: invalid UTF-8, invalid JSON or NaN/Infinity, with line and column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start]
        line = prefix.count(b"\n") + 1
        column = exc.start - (prefix.rfind(b"\n") + 1) + 1
        raise GraphImportError(file, f"line {line} column {column}", "not valid UTF-8 text") from exc
    hook = _mark_repeated_keys if mark_repeated_keys else None
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        raise GraphImportError(file, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from exc
    except _BareConstant as exc:
        raise GraphImportError(file, _line_column(text, _find_bare_constant(text)),
                               f"invalid JSON: {exc} is not a JSON number") from exc
    except RecursionError as exc:
        raise GraphImportError(file, None, "invalid JSON: nested too deeply") from exc


def read_bytes(path: Path) -> bytes:
    """Read a whole input file, turning OS errors into `GraphImportError`."""
    if not path.exists():
        raise GraphImportError(str(path), None, "does not exist")
    if path.is_dir():
        raise GraphImportError(str(path), None, "is a directory, expected a file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GraphImportError(str(path), None, f"cannot be read: {exc.strerror or exc}") from exc


def object_column(values: Iterable[Any]) -> np.ndarray:
    """A 1-D object array holding ``values`` as they are (lists stay single cells, never a 2-D array)."""
    values = list(values)
    column = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        column[index] = value
    return column


def property_columns(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Column-wise properties from per-row dicts; a row without a property gets None (= not written)."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: object_column(row.get(name) for row in rows) for name in names}


@lru_cache(maxsize=1)
def graph_schema() -> dict[str, Any]:
    """The JSON Schema of the import format (``graph.schema.json``)."""
    text = resources.files("gnn_neo4j.importers").joinpath("graph.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _fail(file: str, path: list[Any], message: str) -> NoReturn:
    raise GraphImportError(file, json_pointer(*path) or "/", message)


def _check_object(file: str, path: list[Any], value: Any, allowed: tuple[str, ...], required: tuple[str, ...],
                  what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(file, path, f"expected an object ({what}), got {_json_type(value)}")
    _check_repeated(file, path, value)
    unknown = [key for key in value if key not in allowed]
    if unknown:
        _fail(file, path, f"unknown key(s) {', '.join(map(repr, unknown))} in {what}; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            _fail(file, path, f"{what} needs {key!r}")
    return value


def _check_repeated(file: str, path: list[Any], value: dict[str, Any]) -> None:
    if type(value) is RepeatedKeys:
        _fail(file, path + [value.repeated[0]], f"key {value.repeated[0]!r} appears twice in one object; JSON "
              "readers keep only one of the values")


def _check_identifier(file: str, path: list[Any], value: Any, what: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        _fail(file, path, f"{what} {_SHORT.repr(value)} is not an identifier ({_IDENTIFIER_RULE})")
    return value


def _check_id(file: str, path: list[Any], value: Any) -> str:
    if not isinstance(value, str):
        _fail(file, path, f"expected a string id, got {_json_type(value)}")
    if not 1 <= len(value) <= MAX_ID_LENGTH:
        _fail(file, path, f"id must be 1 to {MAX_ID_LENGTH} characters long, got {len(value)}")
    return value


def _unsupported(value: Any) -> str:
    return (f"property value {_SHORT.repr(value)} is {_json_type(value)} of an unsupported kind: use null, a "
            "string, a number, a boolean, or a list of strings, of numbers or of booleans (one type per list, no "
            "objects, nulls or nested lists)")


def _check_number(file: str, path: list[Any], value: int | float) -> None:
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            _fail(file, path, f"integer {value} does not fit in 64 bits")
    elif not math.isfinite(value):
        _fail(file, path, f"number {value} is not finite")


def _check_value(file: str, path: list[Any], name: str, value: Any) -> Any:
    """Property ``name`` at ``path`` as stored: primitives as they are, lists of one type (int/float mixes become
    float). Paths are only built on failure: this runs once per property of every node and edge."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        _check_number(file, path + [name], value)
        return value
    if not isinstance(value, list):
        _fail(file, path + [name], _unsupported(value))
    kinds = set()
    for index, item in enumerate(value):
        if isinstance(item, (bool, str)):
            kinds.add(type(item))
        elif isinstance(item, (int, float)):
            _check_number(file, path + [name, index], item)
            kinds.add(type(item))
        else:
            _fail(file, path + [name], _unsupported(value))
    if len(kinds) <= 1:
        return value
    if kinds != {int, float}:
        _fail(file, path + [name], _unsupported(value))
    return [float(item) for item in value]


def _properties(file: str, path: list[Any], raw: Any, *, node: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        _fail(file, path, f"expected an object (properties), got {_json_type(raw)}")
    _check_repeated(file, path, raw)
    props = {}
    for name, value in raw.items():
        if not IDENTIFIER.match(name):
            _check_identifier(file, path + [name], name, "property name")
        if node and name == "id":
            _fail(file, path + [name], "property 'id' is reserved: the node's top-level id is its id")
        if name.startswith(RESERVED_PROPERTY_PREFIX):
            _fail(file, path + [name], f"property names starting with {RESERVED_PROPERTY_PREFIX!r} are reserved "
                  "for what gnn-neo4j writes back")
        value = _check_value(file, path, name, value)
        if value is not None:
            props[name] = value
    return props


def _check_top(file: str, document: Any) -> tuple[list[Any], list[Any]]:
    _check_object(file, [], document, _TOP_KEYS, ("nodes",), "the graph document")
    if "version" in document and (document["version"] != 1 or isinstance(document["version"], bool)):
        _fail(file, ["version"], f"unsupported version {_SHORT.repr(document['version'])}; this reader knows 1")
    if "description" in document and not isinstance(document["description"], str):
        _fail(file, ["description"], f"expected a string, got {_json_type(document['description'])}")
    for key in ("nodes", "edges"):
        if not isinstance(document.get(key, []), list):
            _fail(file, [key], f"expected a list, got {_json_type(document[key])}")
    return document["nodes"], document.get("edges", [])


def parse_json_graph(document: Any, source: str = "<memory>") -> tuple[PropertyGraph, ImportReport]:
    """Turn a decoded import document into a graph (pure; see the module docstring for the format).

    Validation is a single pass equivalent to ``graph.schema.json`` (the unit tests hold the two to the
    same verdicts) plus the rules a schema cannot state: unique ids, known endpoints, 64-bit integers,
    finite numbers, reserved names, one edge per (source, type, target).

    Args:
        document: the decoded JSON document.
        source: file name used in errors and the report.
    Returns:
        (graph, report); the graph passes `PropertyGraph.validate`.
    Raises:
        GraphImportError: naming ``source`` and the JSON pointer of the first problem in document order.
    """
    nodes, edges = _check_top(source, document)
    report = ImportReport(source=source, format="json", files=[{"file": source}])

    node_groups: dict[tuple[str, ...], tuple[list[str], list[dict[str, Any]]]] = {}
    first_seen: dict[str, int] = {}
    for index, node in enumerate(nodes):
        path = ["nodes", index]
        _check_object(source, path, node, _NODE_KEYS, ("id",), "a node")
        node_id = _check_id(source, path + ["id"], node["id"])
        labels_raw = node.get("labels", [])
        if not isinstance(labels_raw, list):
            _fail(source, path + ["labels"], f"expected a list of labels, got {_json_type(labels_raw)}")
        extra: list[str] = []
        for label_index, label in enumerate(labels_raw):
            label_path = path + ["labels", label_index]
            _check_identifier(source, label_path, label, "label")
            if label in labels_raw[:label_index]:
                _fail(source, label_path, f"label {label} is listed twice")
            if label.startswith(RESERVED_LABEL_PREFIX):
                _fail(source, label_path, f"labels starting with {RESERVED_LABEL_PREFIX!r} are reserved for what "
                      "gnn-neo4j writes back")
            if label != KEY_LABEL:
                extra.append(label)
        props = _properties(source, path + ["properties"], node.get("properties", {}), node=True)
        if node_id in first_seen:
            _fail(source, path + ["id"], f"duplicate node id {_SHORT.repr(node_id)} (first at "
                  f"{json_pointer('nodes', first_seen[node_id])})")
        first_seen[node_id] = index
        ids, rows = node_groups.setdefault((KEY_LABEL, *extra), ([], []))
        ids.append(node_id)
        rows.append(props)

    edge_groups: dict[str, tuple[list[str], list[str], list[dict[str, Any]]]] = {}
    seen_edges: dict[tuple[str, str, str], int] = {}
    missing: list[tuple[int, str, str]] = []
    for index, edge in enumerate(edges):
        path = ["edges", index]
        _check_object(source, path, edge, _EDGE_KEYS, ("source", "target", "type"), "an edge")
        src = _check_id(source, path + ["source"], edge["source"])
        dst = _check_id(source, path + ["target"], edge["target"])
        rel_type = _check_identifier(source, path + ["type"], edge["type"], "relationship type")
        if rel_type in RESERVED_REL_TYPES:
            _fail(source, path + ["type"], f"relationship type {rel_type} is reserved for what gnn-neo4j writes back")
        props = _properties(source, path + ["properties"], edge.get("properties", {}), node=False)
        for side, node_id in (("source", src), ("target", dst)):
            if node_id not in first_seen:
                missing.append((index, side, node_id))
        key = (src, rel_type, dst)
        if key in seen_edges:
            _fail(source, path, f"second {rel_type} edge from {_SHORT.repr(src)} to {_SHORT.repr(dst)} (first at "
                  f"{json_pointer('edges', seen_edges[key])}); the loader merges relationships by (source, type, "
                  "target), so combine them into one edge")
        seen_edges[key] = index
        sources, targets, rows = edge_groups.setdefault(rel_type, ([], [], []))
        sources.append(src)
        targets.append(dst)
        rows.append(props)
    if missing:
        index, side, node_id = missing[0]
        others = f" (and {len(missing) - 1} more dangling endpoint(s))" if len(missing) > 1 else ""
        _fail(source, ["edges", index, side],
              f"edge {side} {_SHORT.repr(node_id)} is not the id of any node in the file{others}")

    graph = PropertyGraph()
    for labels, (ids, rows) in node_groups.items():
        graph.nodes.append(NodeSet(labels, object_column(ids), property_columns(rows)))
        kind = ":".join(labels[1:]) or KEY_LABEL
        report.nodes_by_kind[kind] = report.nodes_by_kind.get(kind, 0) + len(ids)
    for rel_type, (sources, targets, rows) in edge_groups.items():
        graph.edges.append(EdgeSet(rel_type, KEY_LABEL, KEY_LABEL, object_column(sources), object_column(targets),
                                   property_columns(rows)))
        report.edges_by_type[rel_type] = len(sources)
    graph.validate()
    return graph, report


def read_json_graph(path: str | Path) -> tuple[PropertyGraph, ImportReport]:
    """Read a graph import file (format in the module docstring).

    Args:
        path: the JSON file.
    Returns:
        (graph, report): the graph to hand to the loader, and counts per kind and relationship type.
    Raises:
        GraphImportError: the file is missing or unreadable, is not valid JSON (line and column), or breaks
            a format rule (JSON pointer of the first problem). Nothing is returned, so nothing is written.
    """
    path = Path(path)
    document = decode_json(str(path), read_bytes(path), mark_repeated_keys=True)
    return parse_json_graph(document, source=str(path))


def validate_against_mapping(
    graph: PropertyGraph,
    mapping: Mapping,
    *,
    other_rel_types: Iterable[str] = (),
    source: str = "graph",
) -> None:
    """Check that a graph uses only labels and relationship types the mapping knows, before loading it.

    A label or relationship type the mapping does not name would be loaded but never scored, which is
    almost always a typo, so it is an error rather than a silent no-op.

    Args:
        graph: the imported graph.
        mapping: the mapping the graph will be analysed with.
        other_rel_types: relationship types that are expected but are not attack relationships (context only,
            e.g. `gnn_neo4j.importers.bloodhound.CONTEXT_EDGE_TYPES`).
        source: name used in the error (usually the imported file).
    Raises:
        GraphImportError: listing every unknown key label, kind label and relationship type, with what the
            mapping knows.
    """
    problems = []
    key_labels = sorted({n.key_label for n in graph.nodes} | {e.src_label for e in graph.edges}
                        | {e.dst_label for e in graph.edges})
    wrong_keys = [label for label in key_labels if label != mapping.key_label]
    if wrong_keys:
        problems.append(f"key label(s) {', '.join(wrong_keys)} differ from the mapping's key_label "
                        f"{mapping.key_label}")
    known_labels = set(mapping.labels)
    labels: Counter = Counter()
    for node_set in graph.nodes:
        for label in node_set.labels[1:]:
            labels[label] += len(node_set)
    unknown_labels = sorted(set(labels) - known_labels)
    if unknown_labels:
        problems.append("labels not in the mapping: "
                        + ", ".join(f"{label} ({labels[label]} nodes)" for label in unknown_labels)
                        + f"; the mapping knows: {', '.join(sorted(known_labels)) or 'none'}")
    known_types = set(mapping.rel_types) | set(other_rel_types)
    types: Counter = Counter()
    for edge_set in graph.edges:
        types[edge_set.rel_type] += len(edge_set)
    unknown_types = sorted(set(types) - known_types)
    if unknown_types:
        problems.append("relationship types not in the mapping: "
                        + ", ".join(f"{t} ({types[t]} edges)" for t in unknown_types)
                        + f"; attack relationships: {', '.join(sorted(mapping.rel_types))}"
                        + (f"; also allowed: {', '.join(sorted(set(other_rel_types)))}" if other_rel_types else ""))
    if problems:
        raise GraphImportError(source, None, f"does not match mapping {mapping.name!r} ({mapping.source}): "
                               + "; ".join(problems))
