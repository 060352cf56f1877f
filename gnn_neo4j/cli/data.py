"""`gnn-neo4j generate` and `gnn-neo4j import bloodhound|json`: graphs in, nothing half written."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


def _load(settings: Settings, graph, as_json: bool) -> dict:
    from gnn_neo4j import schema
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.loader import load_graph

    with GraphRunner(settings) as runner:
        schema.apply(runner)
        report = load_graph(runner, graph, progress=not as_json)
    return {"nodes": report.nodes, "relationships": report.relationships, "seconds": round(report.seconds, 3),
            "rows_per_second": round(report.rows_per_second, 1), "one_transaction": report.atomic}


@click.command()
@click.option("--size", type=click.Choice(["small", "medium", "large"]), help="Named size (~400, ~8k, ~100k nodes).")
@click.option("--assets", type=int, help="Target node count instead of --size (60 .. 1,000,000).")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed and size give byte-identical output.")
@click.option("--label-share", default=0.3, show_default=True, type=float, help="Share of attack edges with an observed outcome.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Where the hidden ground truth goes.")
@click.option("--load", is_flag=True, help="Also load the graph into Neo4j.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def generate(settings: Settings, size: str | None, assets: int | None, seed: int, label_share: float,
             out: Path | None, load: bool, as_json: bool) -> None:
    """Generate a synthetic enterprise + cloud environment with hidden ground truth.

    The ground truth (true exploit probabilities, Monte Carlo compromise probabilities, exact top-K paths) is
    written to a separate file under --out, never into Neo4j.
    """
    from gnn_neo4j.synthetic import SyntheticDataGenerator, graph_fingerprint

    if size and assets:
        raise click.UsageError("give --size or --assets, not both")
    try:
        generator = SyntheticDataGenerator(seed=seed, size=None if assets else (size or "small"), assets=assets,
                                           label_share=label_share)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    began = time.perf_counter()
    environment = generator.generate_all()
    seconds = time.perf_counter() - began
    tag = f"{size or 'small'}" if not assets else f"assets{assets}"
    out = out or settings.data_dir / "synthetic" / f"{tag}-seed{seed}"
    npz_path, _ = environment.ground_truth.save(out / "ground_truth")
    result = {
        "seed": seed, "size": tag, "nodes": environment.graph.node_count, "relationships": environment.graph.edge_count,
        "generation_seconds": round(seconds, 3), "fingerprint": graph_fingerprint(environment.graph),
        "ground_truth": str(npz_path.with_suffix("")),
    }
    if load:
        result["load"] = _load(settings, environment.graph, as_json)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"generated {result['nodes']} nodes, {result['relationships']} relationships in {seconds:.2f}s "
               f"(seed {seed}, {tag}); ground truth: {result['ground_truth']}.npz/.json")
    if load:
        click.echo(f"loaded in {result['load']['seconds']}s ({result['load']['rows_per_second']:.0f} rows/s)")


@click.group("import")
def import_group() -> None:
    """Import a graph from files; a failed import writes nothing."""


def _finish_import(settings: Settings, graph, report, dry_run: bool, as_json: bool) -> None:
    result = {"read": report.to_dict()}
    if not dry_run:
        result["load"] = _load(settings, graph, as_json)
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(report.summary())
    if not dry_run:
        load = result["load"]
        click.echo(f"loaded {load['nodes']} nodes and {load['relationships']} relationships in {load['seconds']}s "
                   f"({load['rows_per_second']:.0f} rows/s)")


@import_group.command("json")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping_name", help="Check labels and types against this mapping (name or YAML file).")
@click.option("--dry-run", is_flag=True, help="Validate only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def import_json(settings: Settings, file: Path, mapping_name: str | None, dry_run: bool, as_json: bool) -> None:
    """Import FILE in the generic JSON graph format (see README)."""
    from gnn_neo4j.importers.json_format import read_json_graph, validate_against_mapping
    from gnn_neo4j.mapping import load_mapping

    graph, report = read_json_graph(file)
    if mapping_name:
        validate_against_mapping(graph, load_mapping(mapping_name), source=str(file))
    _finish_import(settings, graph, report, dry_run, as_json)


@import_group.command("bloodhound")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--entry-points", "entry_point_rule", default="roastable", show_default=True,
              type=click.Choice(["roastable", "assume_breach", "enabled_users"]), help="Which principals are entry points.")
@click.option("--dry-run", is_flag=True, help="Parse only; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def import_bloodhound(settings: Settings, path: Path, entry_point_rule: str, dry_run: bool, as_json: bool) -> None:
    """Import a SharpHound v5/v6 collection (ZIP or directory)."""
    from gnn_neo4j.importers.bloodhound import read_bloodhound

    graph, report = read_bloodhound(path, entry_point_rule=entry_point_rule)
    _finish_import(settings, graph, report, dry_run, as_json)
