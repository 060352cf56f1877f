"""What an importer hands back besides the graph: a `GraphImportError` when the input is unusable, else an
`ImportReport` that counts what was read, what was made up (placeholders) and what was skipped, and why.

Importers are pure (files in, `PropertyGraph` out); they raise before returning anything, so a failed
import never reaches the loader and nothing is written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class GraphImportError(ValueError):
    """An input file cannot be imported.

    Args:
        file: the file (for a ZIP member ``archive.zip!member.json``).
        position: where in the file: ``line 3 column 7`` for syntax errors, a JSON pointer such as
            ``/nodes/3/labels/0`` for content errors, or None when the whole file is at fault.
        message: what is wrong, in words a user can act on.
    """

    def __init__(self, file: str, position: str | None, message: str) -> None:
        self.file = str(file)
        self.position = position
        self.message = message
        where = f"{self.file}: {position}" if position else self.file
        super().__init__(f"{where}: {message}")


def json_pointer(*parts: Any) -> str:
    """RFC 6901 pointer from path parts: ``json_pointer("nodes", 3, "labels") == "/nodes/3/labels"``."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass
class ImportReport:
    """Counts from one import.

    Attributes:
        source: the path that was imported.
        format: ``bloodhound`` or ``json``.
        files: one entry per file read (name, and for BloodHound its meta.type, version and entry count).
        nodes_by_kind: node count per kind label (placeholders included).
        edges_by_type: relationship count per type.
        placeholders_by_kind: nodes created for referenced but not collected objects, per kind label.
        skipped: counted skips, reason -> count; nothing is dropped without being counted here.
        skipped_examples: reason -> the first place it happened (file and JSON pointer).
        merged: counted merges, e.g. duplicate objects or duplicate relationships folded into one.
        warnings: things worth a look that did not stop the import (e.g. meta.count mismatches).
    """

    source: str
    format: str
    files: list[dict[str, Any]] = field(default_factory=list)
    nodes_by_kind: dict[str, int] = field(default_factory=dict)
    edges_by_type: dict[str, int] = field(default_factory=dict)
    placeholders_by_kind: dict[str, int] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    skipped_examples: dict[str, str] = field(default_factory=dict)
    merged: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)

    @property
    def node_count(self) -> int:
        return sum(self.nodes_by_kind.values())

    @property
    def edge_count(self) -> int:
        return sum(self.edges_by_type.values())

    @property
    def placeholders(self) -> int:
        return sum(self.placeholders_by_kind.values())

    def skip(self, reason: str, where: str, count: int = 1) -> None:
        """Count ``count`` skipped items for ``reason``; remember the first ``where`` as an example."""
        self.skipped[reason] += count
        self.skipped_examples.setdefault(reason, where)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (for ``--json`` output)."""
        return {
            "source": self.source,
            "format": self.format,
            "files": list(self.files),
            "nodes": self.node_count,
            "edges": self.edge_count,
            "placeholders": self.placeholders,
            "nodes_by_kind": dict(sorted(self.nodes_by_kind.items())),
            "edges_by_type": dict(sorted(self.edges_by_type.items())),
            "placeholders_by_kind": dict(sorted(self.placeholders_by_kind.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_examples": dict(sorted(self.skipped_examples.items())),
            "merged": dict(sorted(self.merged.items())),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A few human-readable lines."""
        lines = [
            f"{self.source} ({self.format}): {self.node_count} nodes ({self.placeholders} placeholders), "
            f"{self.edge_count} relationships from {len(self.files)} file(s)",
            "  nodes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.nodes_by_kind.items())),
            "  relationships: " + ", ".join(f"{k} {v}" for k, v in sorted(self.edges_by_type.items())),
        ]
        for reason, count in sorted(self.skipped.items()):
            lines.append(f"  skipped {count}: {reason} (first at {self.skipped_examples.get(reason, '?')})")
        for what, count in sorted(self.merged.items()):
            lines.append(f"  merged {count}: {what}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)
