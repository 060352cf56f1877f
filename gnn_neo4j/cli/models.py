"""`gnn-neo4j models list|promote|rollback|compare`: the MLflow model registry (aliases challenger/champion)."""

from __future__ import annotations

import json
import math
from typing import Any

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings

DEFAULT_MODEL_NAME = "attack_path_scorer"
# Metrics shown by `models list` (the seed's headline metrics, as logged by training/evaluation).
LIST_METRICS = ("auc_pr", "f1", "risk_score_correlation", "top_k_precision", "ndcg_at_k", "latency_ms")

model_name_option = click.option("--name", "model_name", default=DEFAULT_MODEL_NAME, show_default=True,
                                 help="Registered model name.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _tracker(settings: Settings):
    from gnn_neo4j.tracking import MLflowTracker

    return MLflowTracker.from_settings(settings)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@click.group()
def models() -> None:
    """Registered attack-path models: versions, champion/challenger aliases, rollback, A/B comparison."""


@models.command("list")
@model_name_option
@json_option
@pass_settings
def list_versions(settings: Settings, model_name: str, as_json: bool) -> None:
    """List the versions of a registered model, newest first, with aliases and headline metrics."""
    rows = _tracker(settings).list_versions(model_name)
    if as_json:
        click.echo(json.dumps(_plain(rows)))
        return
    if not rows:
        click.echo(f"no versions of {model_name} registered")
        return
    metric_names = [m for m in LIST_METRICS if any(m in row["metrics"] for row in rows)]
    header = ["version", "aliases", "created", *metric_names, "run"]
    table = [[str(row["version"]), ",".join(row["aliases"]) or "-", row["created"] or "-",
              *(_fmt(row["metrics"].get(m)) for m in metric_names), row["run_id"] or "-"] for row in rows]
    _echo_table(header, table)


@models.command()
@model_name_option
@click.option("--version", type=click.IntRange(min=1), help="Version to promote (default: the challenger).")
@json_option
@pass_settings
def promote(settings: Settings, model_name: str, version: int | None, as_json: bool) -> None:
    """Make a version the champion (scoring uses models:/<name>@champion); the old champion is remembered."""
    result = _tracker(settings).promote(model_name, version)
    if as_json:
        click.echo(json.dumps(result))
    elif result["previous"] is None:
        click.echo(f"{model_name} version {result['version']} is the champion")
    else:
        click.echo(f"{model_name} version {result['version']} is the champion (was version {result['previous']}; "
                   "`gnn-neo4j models rollback` restores it)")


@models.command()
@model_name_option
@json_option
@pass_settings
def rollback(settings: Settings, model_name: str, as_json: bool) -> None:
    """Give the champion alias back to the version that held it before the last promotion."""
    result = _tracker(settings).rollback(model_name)
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"{model_name}: champion is version {result['version']} again "
                   f"(version {result['rolled_back']} rolled back)")


@models.command()
@click.argument("version_a", type=click.IntRange(min=1))
@click.argument("version_b", type=click.IntRange(min=1))
@model_name_option
@click.option("--log", "log_comparison", is_flag=True, help="Also record the comparison as an MLflow run.")
@json_option
@pass_settings
def compare(settings: Settings, version_a: int, version_b: int, model_name: str, log_comparison: bool,
            as_json: bool) -> None:
    """A/B comparison of two registered versions by the metrics their training runs logged."""
    result = _tracker(settings).compare_versions(model_name, version_a, version_b, log_comparison=log_comparison)
    if as_json:
        click.echo(json.dumps(_plain(result)))
        return
    if not result["metrics"]:
        click.echo(f"versions {version_a} and {version_b} of {model_name} share no logged metrics")
        return
    label = {"a": f"v{version_a}", "b": f"v{version_b}", "same": "same", None: "-"}
    table = [[name, _fmt(row["a"]), _fmt(row["b"]), _fmt(row["difference"]), label[row["better"]]]
             for name, row in result["metrics"].items()]
    _echo_table(["metric", f"v{version_a} (A)", f"v{version_b} (B)", "B - A", "better"], table)
    if result.get("run_id"):
        click.echo(f"logged as MLflow run {result['run_id']}")


def _echo_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    for line in [header, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
