"""`gnn-neo4j server start|stop|status|logs`: the local Neo4j server."""

from __future__ import annotations

import json
import time

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


@click.group()
def server() -> None:
    """Run the local Neo4j 5.26 server (GDS, APOC, Browser, gnn plugin)."""


@server.command()
@click.option("--heap", "heap_size", help="JVM heap, e.g. 1g (default 768m or $GNN_NEO4J_HEAP).")
@click.option("--pagecache", "pagecache_size", help="Page cache, e.g. 512m (default 256m).")
@click.option("--timeout", "start_timeout_s", type=float, help="Seconds to wait for Bolt (default 180).")
@pass_settings
def start(settings: Settings, **overrides: object) -> None:
    """Start the server in the background and wait until it answers."""
    from dataclasses import replace

    from gnn_neo4j.server import LocalServer

    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    local = LocalServer(settings)
    began = time.monotonic()
    started, pid = local.start()
    if not started:
        click.echo(f"Neo4j is already running (pid {pid}) on {local.bolt_uri}")
        return
    click.echo(f"Neo4j started (pid {pid}) in {time.monotonic() - began:.1f}s")
    click.echo(f"  Bolt:     {local.bolt_uri}  (user {settings.neo4j_user}, password in {settings.local_password_file})")
    click.echo(f"  Browser:  {local.browser_url}")


@server.command()
@pass_settings
def stop(settings: Settings) -> None:
    """Stop the server (gracefully, then forcefully after a timeout)."""
    from gnn_neo4j.server import LocalServer

    if LocalServer(settings).stop():
        click.echo("Neo4j stopped")
    else:
        click.echo("Neo4j is not running")


@server.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def status(settings: Settings, as_json: bool) -> None:
    """Say whether the server runs; exit 1 when it does not."""
    from gnn_neo4j.server import LocalServer

    state = LocalServer(settings).status()
    if as_json:
        click.echo(json.dumps({**state.__dict__, "home": str(state.home), "data_dir": str(state.data_dir)}))
    elif state.running:
        click.echo(f"running (pid {state.pid}) on {state.bolt_uri}, Browser {state.browser_url}")
    else:
        click.echo("not running")
    if not state.running:
        raise SystemExit(1)


@server.command()
@click.option("-n", "--lines", default=40, show_default=True, help="Lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@pass_settings
def logs(settings: Settings, lines: int, follow: bool) -> None:
    """Show the tail of the server log."""
    from gnn_neo4j.server import LocalServer

    local = LocalServer(settings)
    click.echo(local.log_tail(lines))
    if follow:
        path = local.logs_dir / "neo4j.log"
        with open(path, encoding="utf-8", errors="replace") as handle:
            handle.seek(0, 2)
            while True:
                line = handle.readline()
                if line:
                    click.echo(line, nl=False)
                else:
                    time.sleep(0.5)
