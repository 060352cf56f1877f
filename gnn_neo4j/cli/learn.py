"""`gnn-neo4j train`, `score` and `run`: the learning side of the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings

TABLE_COLUMNS = (
    ("auc_roc", "AUC-ROC"), ("auc_pr", "AUC-PR"), ("f1", "F1"), ("ndcg_at_k", "NDCG@K"),
    ("risk_score_correlation", "risk corr"), ("top_k_precision", "top-K prec"),
    ("path_detection_accuracy", "path det"), ("crown_jewels_reachable", "CJ reach"),
    ("latency_ms", "latency ms"), ("training_seconds", "train s"), ("epochs_to_convergence", "epochs"),
)


def _hyperparameter_options(fn):
    for name, kind in reversed((("hidden-dim", int), ("num-layers", int), ("num-heads", int), ("dropout", float),
                                ("learning-rate", float), ("weight-decay", float), ("batch-size", int),
                                ("epochs", int), ("patience", int))):
        fn = click.option(f"--{name}", type=kind, default=None, help=f"Override {name.replace('-', '_')}.")(fn)
    return fn


def _overrides(params: dict[str, Any]) -> dict[str, Any]:
    keys = ("hidden_dim", "num_layers", "num_heads", "dropout", "learning_rate", "weight_decay", "batch_size",
            "epochs", "patience")
    return {k: params[k] for k in keys if params.get(k) is not None}


def _format(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def render_table(results: dict[str, dict[str, Any]]) -> str:
    header = ["model", *(title for _, title in TABLE_COLUMNS)]
    rows = []
    for name, metrics in results.items():
        row = [name]
        for key, _ in TABLE_COLUMNS:
            value = metrics.get(key)
            if key == "crown_jewels_reachable" and value is not None and "crown_jewels_reachable_true" in metrics:
                value = f"{value}/{metrics['crown_jewels_reachable_true']}"
            row.append(_format(value))
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _seeds(text: str) -> tuple[int, int, int]:
    try:
        seeds = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise click.BadParameter("seeds are three integers, e.g. 1,2,3") from None
    if len(seeds) != 3 or len(set(seeds)) != 3:
        raise click.BadParameter("give three different seeds: train,val,test")
    return seeds  # type: ignore[return-value]


@click.command()
@click.option("--model", "model_type", type=click.Choice(["graphsage", "gat"]), default="graphsage", show_default=True)
@click.option("--source", type=click.Choice(["neo4j", "synthetic"]), default="neo4j", show_default=True,
              help="neo4j: the current graph, disjoint labelled-edge splits; synthetic: train/val/test graphs of different seeds.")
@click.option("--size", type=click.Choice(["small", "medium", "large"]), default="small", show_default=True, help="Synthetic size.")
@click.option("--seeds", default="1,2,3", show_default=True, help="Synthetic train,val,test seeds.")
@click.option("--export-method", type=click.Choice(["gds", "cypher"]), default="gds", show_default=True)
@click.option("--mapping", "mapping_name", help="Mapping name or YAML file (default: settings).")
@click.option("--k", default=10, show_default=True, help="Paths per crown jewel (K of NDCG@K, top-K precision).")
@click.option("--max-hops", default=8, show_default=True)
@click.option("--seed", default=0, show_default=True, help="Training seed.")
@click.option("--no-gds-baseline", is_flag=True, help="Skip the GDS GraphSAGE + LR baseline (needs a server with GDS).")
@click.option("--save", "save_dir", type=click.Path(file_okay=False, path_type=Path), help="Save the trained model here.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object keyed by model name.")
@_hyperparameter_options
@pass_settings
def train(settings: Settings, model_type: str, source: str, size: str, seeds: str, export_method: str,
          mapping_name: str | None, k: int, max_hops: int, seed: int, no_gds_baseline: bool, save_dir: Path | None,
          as_json: bool, **params: Any) -> None:
    """Train a GNN and print its metrics beside every baseline on held-out test data."""
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.export import export_attack_graph
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.pipeline import RunOptions, compare_on_graph, compare_synthetic
    from gnn_neo4j.training import save_model

    mapping = load_mapping(mapping_name or settings.mapping)
    options = RunOptions(model_type=model_type, export_method=export_method, k=k, max_hops=max_hops, seed=seed,
                         train_overrides=_overrides(params))
    runner = None if (no_gds_baseline and source == "synthetic") else GraphRunner(settings)
    try:
        if source == "synthetic":
            comparison = compare_synthetic(options, mapping, size, _seeds(seeds), runner)
        else:
            data = export_attack_graph(runner, mapping, export_method).data
            comparison = compare_on_graph(options, mapping, data, None if no_gds_baseline else runner)
    finally:
        if runner is not None:
            runner.close()
    if save_dir is not None:
        save_model(comparison.train_result, save_dir)
    if as_json:
        click.echo(json.dumps(_jsonable(comparison.results), sort_keys=True))
        return
    click.echo(f"held-out evaluation: {comparison.source}")
    click.echo(f"training labels used: {comparison.train_result.label_counts}")
    click.echo(render_table(comparison.results))
    for note in comparison.notes:
        click.echo(f"note: {note}")


def _run_pipeline(settings: Settings, options, stages) -> dict[str, Any]:
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.pipeline import RunContext, run_stages

    mapping = load_mapping(settings.mapping)
    with GraphRunner(settings) as runner:
        ctx = RunContext(settings, runner, mapping, options)
        run_stages(ctx, stages, on_stage=lambda name, s: click.echo(f"  {name:<11} {s:7.2f}s", err=True))
    return {"generation": ctx.stamp.generation, "model_version": ctx.model_version, "counts": ctx.counts,
            "metrics": _jsonable(ctx.metrics), "timings": {k: round(v, 3) for k, v in ctx.timings.items()}}


def _print_run(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, sort_keys=True, default=str))
        return
    click.echo(f"generation {summary['generation']} complete (model {summary['model_version']}): "
               f"{summary['counts'].get('written_nodes', 0)} assets scored, "
               f"{summary['counts'].get('written_paths', 0)} attack paths written")


@click.command()
@click.option("--model", "model_type", type=click.Choice(["graphsage", "gat"]), default="graphsage", show_default=True)
@click.option("--export-method", type=click.Choice(["gds", "cypher"]), default="gds", show_default=True)
@click.option("--k", default=5, show_default=True, help="ATTACK_PATHs written per crown jewel.")
@click.option("--max-hops", default=8, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--tune-trials", default=0, show_default=True, help="Optuna trials before the final training.")
@click.option("--tune-max-epochs", type=int, default=None, help="Cap on epochs per tuning trial (CPU budget).")
@click.option("--no-track", is_flag=True, help="No MLflow run/registry (the model is saved locally only).")
@click.option("--no-promote", is_flag=True, help="Register as challenger only; keep the current champion.")
@click.option("--json", "as_json", is_flag=True)
@_hyperparameter_options
@pass_settings
def run(settings: Settings, model_type: str, export_method: str, k: int, max_hops: int, seed: int, tune_trials: int,
        tune_max_epochs: int | None, no_track: bool, no_promote: bool, as_json: bool, **params: Any) -> None:
    """One full cycle: export -> (tune) -> train -> score -> write back -> clean up.

    The trained model is tracked in MLflow; if it passes the evaluation gate on held-out labelled edges it is
    registered and (unless --no-promote) becomes the champion. Its registry version is stamped on every score.
    """
    from gnn_neo4j.pipeline import RUN_STAGES, RunOptions

    options = RunOptions(model_type=model_type, export_method=export_method, k=k, max_hops=max_hops, seed=seed,
                         save_dir=settings.data_dir / "models", train_overrides=_overrides(params),
                         tune_trials=tune_trials, tune_max_epochs=tune_max_epochs, track=not no_track,
                         promote=not no_promote)
    _print_run(_run_pipeline(settings, options, RUN_STAGES), as_json)


@click.command()
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A model saved by `train --save` or `run` (default: models:/attack_path_scorer@champion).")
@click.option("--export-method", type=click.Choice(["gds", "cypher"]), default="gds", show_default=True)
@click.option("--k", default=5, show_default=True)
@click.option("--max-hops", default=8, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def score(settings: Settings, model_dir: Path | None, export_method: str, k: int, max_hops: int, as_json: bool) -> None:
    """Score the current graph with the champion (or a saved model) and write a new generation back."""
    from gnn_neo4j.pipeline import RUN_STAGES, RunOptions

    options = RunOptions(export_method=export_method, k=k, max_hops=max_hops, model_dir=model_dir,
                         use_champion=model_dir is None)
    _print_run(_run_pipeline(settings, options, RUN_STAGES), as_json)


@click.command()
@click.option("--interval", "interval_minutes", type=float, default=60.0, show_default=True, help="Minutes between runs.")
@click.option("--max-runs", type=int, default=None, help="Stop after this many runs (default: run until stopped).")
@click.option("--model", "model_type", type=click.Choice(["graphsage", "gat"]), default="graphsage", show_default=True)
@click.option("--export-method", type=click.Choice(["gds", "cypher"]), default="gds", show_default=True)
@_hyperparameter_options
@pass_settings
def daemon(settings: Settings, interval_minutes: float, max_runs: int | None, model_type: str, export_method: str,
           **params: Any) -> None:
    """Rescore on a schedule: export -> train -> score -> write back -> clean up, one run at a time."""
    from gnn_neo4j.daemon import run_daemon
    from gnn_neo4j.pipeline import RunOptions

    options = RunOptions(model_type=model_type, export_method=export_method, save_dir=settings.data_dir / "models",
                         train_overrides=_overrides(params))
    ok = run_daemon(settings, options, interval_minutes, max_runs)
    click.echo(f"daemon stopped after {ok} successful run(s)")
    if max_runs is not None and ok < max_runs:
        raise SystemExit(1)
