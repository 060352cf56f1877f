"""`gnn-neo4j tune`: hyperparameter search (Optuna) tracked in MLflow; resumable and distributable."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from typing import Any

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings

SOURCES = ("synthetic",)


def _parse_seeds(value: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: give comma-separated integers, e.g. 0,1,2") from exc
    if len(seeds) not in (2, 3) or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise click.BadParameter(f"{value!r}: give 2 or 3 distinct non-negative seeds (train,validation[,test])")
    return seeds


def _check_storage_flag(storage: str | None) -> None:
    """Secrets never come from flags: a storage URL with a password must come from the environment."""
    if storage is None:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(storage)
    except ArgumentError as exc:
        raise click.BadParameter(f"not a database URL: {exc}", param_hint="--storage") from exc
    if url.password:
        raise click.BadParameter(
            "the URL contains a password; passwords are never taken from flags. Set GNN_NEO4J_OPTUNA_STORAGE in "
            "the environment (or use PGPASSWORD / ~/.pgpass) instead", param_hint="--storage")


@click.command()
@click.option("--model", "model_type", required=True, type=click.Choice(["graphsage", "gat"]), help="Model to tune.")
@click.option("--trials", "n_trials", default=100, show_default=True, type=click.IntRange(min=1),
              help="Finished trials the study should hold (study-wide: a resumed or extra worker runs only what is "
                   "missing).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Stop starting trials after S seconds.")
@click.option("--study", "study_name", help="Study to create or resume (default derived from model, source, size, "
                                            "seeds).")
@click.option("--storage", help="Optuna RDB URL (default: $GNN_NEO4J_OPTUNA_STORAGE or "
                                "sqlite:///<data-dir>/optuna.db); point many workers at one PostgreSQL URL to tune in "
                                "parallel. No passwords here.")
@click.option("--source", default="synthetic", show_default=True, type=click.Choice(SOURCES),
              help="Where the graphs come from. Only 'synthetic' (generated train/validation/test environments with "
                   "hidden ground truth) for now; tuning on the Neo4j export arrives with the pipeline.")
@click.option("--synthetic-size", default="small", show_default=True, type=click.Choice(["small", "medium"]),
              help="Size of each synthetic environment.")
@click.option("--seeds", default="0,1,2", show_default=True,
              help="Synthetic seeds train,validation[,test]; with a test seed the best trial is evaluated on it once.")
@click.option("--max-epochs", type=click.IntRange(min=1),
              help="Cap each trial's epochs (the sampled value is kept in the study); for quick CPU runs.")
@click.option("--seed", "sampler_seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Sampler and training seed (give each worker of a new study its own).")
@click.option("--device", default="cpu", show_default=True, help="Torch device, e.g. cpu or cuda.")
@click.option("--no-track", is_flag=True, help="Do not log to MLflow.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_settings
def tune(settings: Settings, model_type: str, n_trials: int, timeout: float | None, study_name: str | None,
         storage: str | None, source: str, synthetic_size: str, seeds: str, max_epochs: int | None,
         sampler_seed: int, device: str, no_track: bool, as_json: bool) -> None:
    """Search GraphSAGE / GAT hyperparameters with Optuna (objective: validation AUC-PR, median pruning).

    The study lives in an RDB storage, so an interrupted run resumes where it stopped (a killed trial is retried)
    and several machines running this command against one PostgreSQL URL share the work. Every study gets one
    MLflow parent run with a nested run per trial (experiment gnn-attack-paths).
    """
    from gnn_neo4j.errors import GnnError

    split = _parse_seeds(seeds)
    _check_storage_flag(storage)
    study_name = study_name or f"{model_type}-{source}-{synthetic_size}-{'-'.join(str(s) for s in split[:2])}"

    from gnn_neo4j.dataset import from_property_graph
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.synthetic import SyntheticDataGenerator
    from gnn_neo4j.tuning import GNNHyperparameterOptimizer, TuningError, route_optuna_logging

    route_optuna_logging()
    began = time.perf_counter()
    environments = [SyntheticDataGenerator(seed=s, size=synthetic_size).generate_all() for s in split]
    mapping = load_mapping(environments[0].metadata.get("mapping", "canonical"))
    graphs = [from_property_graph(env.graph, mapping) for env in environments]
    if not as_json:
        click.echo(f"generated {len(graphs)} {synthetic_size} environments (seeds {seeds}) in "
                   f"{time.perf_counter() - began:.1f}s", err=True)

    tracker = None
    if not no_track:
        from gnn_neo4j.tracking import MLflowTracker

        tracker = MLflowTracker.from_settings(settings)
    try:
        optimizer = GNNHyperparameterOptimizer(model_type, storage=storage or settings.optuna_storage_url,
                                               study_name=study_name, seed=sampler_seed, tracker=tracker,
                                               device=device)
    except TuningError as exc:
        raise click.UsageError(str(exc)) from exc

    with contextlib.ExitStack() as stack:
        stack.callback(optimizer.close)
        try:
            bar = None
            if not as_json:
                bar = stack.enter_context(click.progressbar(length=n_trials, file=sys.stderr,
                                                            label=f"tuning {model_type} ({study_name})"))
                done = sum(1 for t in optimizer.trials() if t["state"] in ("COMPLETE", "PRUNED"))
                bar.update(min(done, n_trials))

            def on_trial(summary: dict) -> None:
                if bar is not None and summary["state"] in ("COMPLETE", "PRUNED"):
                    bar.update(1)

            result = optimizer.optimize(
                graphs[0], graphs[1], graphs[2] if len(graphs) == 3 else None, n_trials=n_trials, timeout=timeout,
                max_epochs=max_epochs, mapping=mapping,
                test_ground_truth=environments[2].ground_truth if len(graphs) == 3 else None, on_trial=on_trial)
        except ValueError as exc:  # TuningError included: unusable labels, a study of another model ...
            raise GnnError(str(exc)) from exc

    result["seconds"] = round(time.perf_counter() - began, 3)
    if as_json:
        click.echo(json.dumps(_plain(result)))
        return
    click.echo(f"study {result['study_name']} in {result['storage']}: {result['n_trials']} trials "
               f"({result['n_complete']} complete, {result['n_pruned']} pruned, {result['n_failed']} failed; "
               f"{result['n_run']} run now)")
    if result["best_trial"] is None:
        click.echo("no trial has completed yet")
        return
    click.echo(f"best trial {result['best_trial']}: {result['objective']} = {result['best_score']:.4f}")
    for name, value in result["best_params"].items():
        click.echo(f"  {name:<14} {value}")
    test = result.get("test_metrics")
    if test:
        shown = ("auc_pr", "auc_roc", "f1", "risk_score_correlation", "top_k_precision", "ndcg_at_k", "latency_ms")
        click.echo("test graph: " + ", ".join(f"{k} {test[k]:.4f}" for k in shown
                                              if isinstance(test.get(k), (int, float))))
    if result.get("mlflow_run_id"):
        click.echo(f"MLflow parent run {result['mlflow_run_id']}")


def _plain(value: Any) -> Any:
    """JSON-safe copy: numpy scalars become numbers, NaN/inf become null, unknown objects strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
