"""`gnn-neo4j generate` and `gnn-neo4j import bloodhound|json`."""

from __future__ import annotations

import click


@click.command()
def generate() -> None:
    """Generate a synthetic environment."""


@click.group("import")
def import_group() -> None:
    """Import a graph from a file."""
