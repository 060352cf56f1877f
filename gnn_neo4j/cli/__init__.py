"""`gnn-neo4j`: the admin command line. One module per command group; heavy imports happen inside commands."""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import click

from gnn_neo4j import __version__
from gnn_neo4j.settings import Settings, SettingsError, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class GnnGroup(click.Group):
    """Turns our own error types into one clear line and a meaningful exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        from gnn_neo4j.errors import USER_ERRORS

        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(EXIT_FAILED)
        except KeyboardInterrupt:
            click.secho("interrupted", fg="yellow", err=True)
            ctx.exit(EXIT_INTERRUPTED)


@click.group(cls=GnnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gnn-neo4j")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="TOML config file.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Where everything the tool writes lives.")
@click.option("--uri", "neo4j_uri", help="Neo4j URI (default: the local server, or $NEO4J_URI).")
@click.option("--user", "neo4j_user", help="Neo4j user (default neo4j, or $NEO4J_USER).")
@click.option("--database", "neo4j_database", help="Neo4j database name.")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, verbose: int, **flags: object) -> None:
    """Score attack paths in Neo4j with graph neural networks."""
    # torch_geometric imports torch.jit.script, which torch deprecates: noise for our users, not an action item
    warnings.filterwarnings("ignore", message="`torch.jit.script` is deprecated", category=FutureWarning)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        ctx.obj = load_settings(config_file=config_file, **flags)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


pass_settings = click.make_pass_decorator(Settings)


def _register() -> None:
    from gnn_neo4j.cli import cypher, data, db, demo, doctor, learn, models, query, server, tune

    main.add_command(server.server)
    main.add_command(doctor.doctor)
    main.add_command(cypher.cypher)
    main.add_command(db.db)
    main.add_command(data.generate)
    main.add_command(data.import_group)
    main.add_command(demo.demo)
    main.add_command(learn.train)
    main.add_command(learn.run)
    main.add_command(learn.score)
    main.add_command(learn.daemon)
    main.add_command(tune.tune)
    main.add_command(models.models)
    main.add_command(query.paths)
    main.add_command(query.report)


_register()
