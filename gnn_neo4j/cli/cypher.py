"""`gnn-neo4j cypher "QUERY" [--param k=v] [--json]`: run one query (a stand-in for cypher-shell)."""

from __future__ import annotations

import json
from typing import Any

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


def parse_param(text: str) -> tuple[str, Any]:
    """``k=v``: v is read as JSON when it parses (numbers, true, lists, "quoted"), else as a plain string."""
    if "=" not in text:
        raise click.BadParameter(f"{text!r} is not key=value")
    key, raw = text.split("=", 1)
    if not key.isidentifier():
        raise click.BadParameter(f"parameter name {key!r} is not an identifier")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


@click.command()
@click.argument("query")
@click.option("-p", "--param", "params", multiple=True, help="Query parameter key=value (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per record.")
@click.option("--write", is_flag=True, help="Run in a write transaction (default: read).")
@pass_settings
def cypher(settings: Settings, query: str, params: tuple[str, ...], as_json: bool, write: bool) -> None:
    """Run QUERY against the configured Neo4j and print the records."""
    from gnn_neo4j.db import GraphRunner

    values = dict(parse_param(p) for p in params)
    with GraphRunner(settings) as runner:
        rows = runner.write(query, values) if write else runner.read(query, values)
    if as_json:
        for row in rows:
            click.echo(json.dumps(_jsonable(row), ensure_ascii=False))
        return
    if not rows:
        click.echo("(no records)")
        return
    columns = list(rows[0])
    cells = [[json.dumps(_jsonable(row.get(c)), ensure_ascii=False) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    click.echo(" | ".join(c.ljust(w) for c, w in zip(columns, widths)))
    click.echo("-+-".join("-" * w for w in widths))
    for row in cells:
        click.echo(" | ".join(v.ljust(w) for v, w in zip(row, widths)))
    click.echo(f"({len(rows)} record{'s' if len(rows) != 1 else ''})")
