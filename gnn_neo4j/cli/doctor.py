"""`gnn-neo4j doctor`: a table of checks with versions; exit 1 when any fails."""

from __future__ import annotations

import json

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def doctor(settings: Settings, as_json: bool) -> None:
    """Check Java, the server, GDS, APOC, the gnn plugin, Browser and Python packages."""
    from gnn_neo4j.doctor import run_checks

    checks = run_checks(settings)
    if as_json:
        click.echo(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        width = max(len(c.name) for c in checks)
        for check in checks:
            mark = click.style(" ok ", fg="green") if check.ok else click.style("FAIL", fg="red")
            click.echo(f"[{mark}] {check.name.ljust(width)}  {check.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        if not as_json:
            click.secho(f"{len(failed)} check(s) failed: {', '.join(failed)}", fg="red", err=True)
        raise SystemExit(1)
