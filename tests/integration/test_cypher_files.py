"""Every shipped .cypher file is valid against the real server (schema files run, Browser queries are EXPLAINed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gnn_neo4j.schema import SCHEMA_DIR, split_statements

pytestmark = pytest.mark.neo4j

BROWSER_DIR = Path(__file__).resolve().parents[2] / "cypher" / "browser"
BROWSER_FILES = sorted(BROWSER_DIR.glob("*.cypher"))
EXAMPLE_PARAMS = {
    "limit": 10, "source": "a", "target": "b", "k": 3, "maxHops": 4, "minProb": 0.1,
    "types": ["CAN_REACH"], "verdict": "exploitable", "note": "", "relationships": [],
}


def test_there_are_browser_queries():
    assert len(BROWSER_FILES) >= 5


@pytest.mark.parametrize("path", BROWSER_FILES, ids=lambda p: p.name)
def test_browser_query_explains_and_names_its_parameters(runner, path):
    text = path.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("//")]
    assert header and any("Parameters:" in line for line in header), "header must name the parameters"
    used = set(re.findall(r"\$(\w+)", text))
    documented = " ".join(header)
    assert all(f"${name}" in documented for name in used), f"undocumented parameters in {path.name}"
    (statement,) = split_statements(text)
    runner.read(f"EXPLAIN {statement}", {name: EXAMPLE_PARAMS[name] for name in used})


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.cypher")), ids=lambda p: p.name)
def test_schema_file_runs_twice(runner, path):
    for _ in range(2):
        for statement in split_statements(path.read_text(encoding="utf-8")):
            runner.write(statement)
