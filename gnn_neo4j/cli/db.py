"""`gnn-neo4j db init|verify`: schema migrations."""

from __future__ import annotations

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


@click.group()
def db() -> None:
    """Database schema (constraints and indexes)."""


@db.command()
@pass_settings
def init(settings: Settings) -> None:
    """Apply the schema migrations (idempotent)."""
    from gnn_neo4j import schema
    from gnn_neo4j.db import GraphRunner

    with GraphRunner(settings) as runner:
        applied = schema.apply(runner)
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied)}")


@db.command()
@pass_settings
def verify(settings: Settings) -> None:
    """Report constraints and indexes that are missing; exit 1 if any."""
    from gnn_neo4j import schema
    from gnn_neo4j.db import GraphRunner

    with GraphRunner(settings) as runner:
        absent = schema.missing(runner)
    if not absent:
        click.echo("schema complete")
        return
    for kind, name in absent:
        click.echo(f"missing {kind.lower()} {name}")
    raise SystemExit(1)
