"""Numbered, idempotent schema migrations from ``cypher/schema/*.cypher`` (`gnn-neo4j db init|verify`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gnn_neo4j.db import GraphRunner
from gnn_neo4j.settings import REPO_ROOT

SCHEMA_DIR = REPO_ROOT / "cypher" / "schema"
_NAMED = re.compile(r"^CREATE\s+(CONSTRAINT|INDEX)\s+(\w+)\s+IF NOT EXISTS", re.IGNORECASE)


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    statements: tuple[str, ...]

    def objects(self) -> list[tuple[str, str]]:
        """(kind, name) of every constraint/index the migration creates."""
        found = []
        for statement in self.statements:
            match = _NAMED.match(statement)
            if match:
                found.append((match.group(1).upper(), match.group(2)))
        return found


def split_statements(text: str) -> tuple[str, ...]:
    """Statements of a schema file: ``//`` comment lines dropped, split on ``;`` (schema files hold no strings)."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return tuple(" ".join(part.split()) for part in body.split(";") if part.strip())


def migrations(directory: Path = SCHEMA_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("[0-9][0-9][0-9]_*.cypher")):
        found.append(Migration(int(path.name[:3]), path.stem, split_statements(path.read_text(encoding="utf-8"))))
    return found


def apply(runner: GraphRunner) -> list[str]:
    """Apply every migration (each statement is idempotent) and record it; returns the migration names applied."""
    applied = []
    for migration in migrations():
        for statement in migration.statements:
            runner.write(statement)
        runner.write(
            "MERGE (m:GnnMigration {number: $number}) SET m.name = $name, m.applied_at = toString(datetime())",
            {"number": migration.number, "name": migration.name},
        )
        applied.append(migration.name)
    return applied


def missing(runner: GraphRunner) -> list[tuple[str, str]]:
    """Constraints and indexes the migrations define that the database lacks."""
    constraints = {row["name"] for row in runner.read("SHOW CONSTRAINTS YIELD name RETURN name")}
    indexes = {row["name"] for row in runner.read("SHOW INDEXES YIELD name RETURN name")}
    absent = []
    for migration in migrations():
        for kind, name in migration.objects():
            if name not in (constraints if kind == "CONSTRAINT" else indexes):
                absent.append((kind, name))
    return absent
