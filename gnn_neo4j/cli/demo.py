"""`gnn-neo4j demo`: the main job end to end on the embedded default (local Neo4j, SQLite MLflow/Optuna)."""

from __future__ import annotations

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


@click.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic environment.")
@click.option("--size", default="small", show_default=True, type=click.Choice(["small", "medium"]), help="Synthetic size.")
@pass_settings
def demo(settings: Settings, seed: int, size: str) -> None:
    """Start the local server, check it, load a synthetic environment and score it."""
    from gnn_neo4j import schema
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.doctor import browser_url, run_checks
    from gnn_neo4j.server import LocalServer

    if settings.uses_local_server:
        started, pid = LocalServer(settings).start()
        click.echo(f"Neo4j {'started' if started else 'already running'} (pid {pid})")
    checks = run_checks(settings)
    for check in checks:
        click.echo(f"[{' ok ' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    if not all(c.ok for c in checks):
        raise click.ClickException("doctor found problems; see above")
    with GraphRunner(settings) as runner:
        schema.apply(runner)
        _demo_job(settings, runner, seed, size)
    click.echo("")
    click.echo(f"Open Neo4j Browser at {browser_url(settings)} (user {settings.neo4j_user}, "
               f"password in {settings.local_password_file if settings.uses_local_server else 'NEO4J_PASSWORD'})")


def _demo_job(settings: Settings, runner, seed: int, size: str) -> None:
    """The main job: generate + load a synthetic environment, then one full run, then show what it wrote."""
    from gnn_neo4j.loader import load_graph
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.pipeline import RUN_STAGES, RunContext, RunOptions, run_stages
    from gnn_neo4j.synthetic import SyntheticDataGenerator

    environment = SyntheticDataGenerator(seed=seed, size=size).generate_all()
    environment.ground_truth.save(settings.data_dir / "synthetic" / f"{size}-seed{seed}" / "ground_truth")
    report = load_graph(runner, environment.graph, progress=True)
    click.echo(f"loaded synthetic environment seed={seed} size={size}: {report.nodes} nodes, "
               f"{report.relationships} relationships ({report.rows_per_second:.0f} rows/s)")
    options = RunOptions(save_dir=settings.data_dir / "models", train_overrides={"epochs": 60, "patience": 10})
    ctx = RunContext(settings, runner, load_mapping(settings.mapping), options)
    run_stages(ctx, RUN_STAGES, on_stage=lambda name, s: click.echo(f"  {name:<11} {s:7.2f}s"))
    click.echo(f"generation {ctx.stamp.generation} complete, model {ctx.model_version}; held-out test edges: "
               f"AUC-ROC {ctx.metrics.get('test_auc_roc', float('nan')):.3f}, "
               f"AUC-PR {ctx.metrics.get('test_auc_pr', float('nan')):.3f}")
    click.echo("top risks (CALL gnn.topRisks(5)):")
    for row in runner.read("CALL gnn.topRisks(5) YIELD id, risk, rank RETURN rank, id, risk"):
        click.echo(f"  {row['rank']:>2}  {row['id']:<28} {row['risk']:.3f}")
    click.echo("most probable attack paths (CALL gnn.rankedPaths(3)):")
    for row in runner.read("CALL gnn.rankedPaths(3) YIELD score, nodeIds RETURN score, nodeIds"):
        click.echo(f"  {row['score']:.3f}  {' -> '.join(row['nodeIds'])}")
