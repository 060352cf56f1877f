"""One rescoring run is an ordered list of named stages: export -> train -> score -> write back -> clean up.

Each stage is a plain function of a `RunContext`; `run_stages` runs them in order with one timing line per
stage, and a failure after the write-back began marks the generation failed and removes what it staged, so the
previous generation stays intact. `compare_models` is the evaluation behind `gnn-neo4j train`: a GNN and every
baseline on the same held-out test data.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.db import GraphRunner
from gnn_neo4j.errors import GnnError
from gnn_neo4j.mapping import Mapping
from gnn_neo4j.settings import Settings

log = logging.getLogger(__name__)

TEST_SPLIT = (0.7, 0.15, 0.15)
# fewer labelled edges than this: no held-out split, train on the mapping's priors (weak labels) instead
MIN_LABELLED_EDGES = 10


@dataclass
class RunOptions:
    """What a run does; CLI flags map onto these."""

    model_type: str = "graphsage"
    export_method: str = "gds"
    k: int = 5
    max_hops: int = 8
    node_risk: str = "monte_carlo"
    risk_trials: int = 1024
    seed: int = 0
    model_dir: Path | None = None  # score with this saved model instead of training
    use_champion: bool = False     # score with models:/<registered_model>@champion instead of training
    save_dir: Path | None = None   # where a trained model is saved
    train_overrides: dict[str, Any] = field(default_factory=dict)
    track: bool = True             # MLflow run + registry (sqlite under the data dir by default)
    registered_model: str = "attack_path_scorer"
    promote: bool = True           # a registered model that passed the gate becomes champion
    gate_min_auc_roc: float = 0.55  # evaluation gate on the held-out test edges
    tune_trials: int = 0           # Optuna trials before the final training (0 = no tuning)
    tune_max_epochs: int | None = None


@dataclass
class RunContext:
    settings: Settings
    runner: GraphRunner
    mapping: Mapping
    options: RunOptions
    data: AttackGraphData | None = None
    result: Any = None  # training.TrainResult
    model_version: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    edge_prob: np.ndarray | None = None
    node_risk: np.ndarray | None = None
    paths: list = field(default_factory=list)
    stamp: Any = None  # writeback.RunStamp
    committed: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def model_version_of(result: Any) -> str:
    """A content version for a model without a registry: model type + hash of its weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(result.model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return f"{result.config.model_type}-{digest.hexdigest()[:12]}"


def train_config(options: RunOptions):
    from gnn_neo4j.training import TrainConfig

    return TrainConfig(model_type=options.model_type, seed=options.seed, **options.train_overrides)


# ---- stages ----------------------------------------------------------------------------------------------------
def export_stage(ctx: RunContext) -> None:
    from gnn_neo4j.export import export_attack_graph

    result = export_attack_graph(ctx.runner, ctx.mapping, ctx.options.export_method)
    ctx.data = result.data
    ctx.counts.update(result.data.summary())


def train_stage(ctx: RunContext) -> None:
    """Train on disjoint labelled-edge splits of the exported graph, track it, gate it, register it.

    Or, with ``model_dir`` / ``use_champion``, load a model instead. Policy when the new model fails the
    evaluation gate: it is not registered; the run scores with the current champion if there is one, else with
    the new model under an ``unregistered-...`` version (and says so).
    """
    from gnn_neo4j.training import load_model

    options = ctx.options
    if options.model_dir is not None:
        ctx.result = load_model(options.model_dir)
        ctx.model_version = model_version_of(ctx.result)
        return
    if options.use_champion:
        from gnn_neo4j.tracking import MLflowTracker

        ctx.result, version = MLflowTracker.from_settings(ctx.settings).load_model(options.registered_model)
        ctx.model_version = f"{options.registered_model}/{version}"
        return
    train, val, test = _labelled_splits(ctx)
    config = train_config(options)
    if options.tune_trials > 0 and val is not None:
        config = _tuned_config(ctx, train, val, config)
    if options.track:
        _train_tracked(ctx, train, val, test, config)
    else:
        _train_plain(ctx, train, val, test, config)


def _labelled_splits(ctx: RunContext):
    data, mapping = ctx.data, ctx.mapping
    if int(data.labelled_mask.sum()) >= MIN_LABELLED_EDGES:
        from gnn_neo4j.training import split_labelled_edges

        return split_labelled_edges(data, TEST_SPLIT, seed=ctx.options.seed)
    if mapping.priors():
        return data, None, None  # prior-only weak labels: no held-out outcomes to evaluate on
    raise _no_labels(mapping, int(data.labelled_mask.sum()))


def _no_labels(mapping: Mapping, labelled: int) -> GnnError:
    return GnnError(
        f"no training labels: {labelled} labelled attack edges ('{mapping.label_property}' outcomes or analyst "
        f"feedback) and mapping {mapping.name!r} defines no priors - nothing honest to train on"
    )


def _held_out(ctx: RunContext, result, test) -> dict[str, Any]:
    from gnn_neo4j.evaluation import evaluate_edge_probabilities
    from gnn_neo4j.training import score_graph

    if test is None:
        return {}
    edge_prob, _ = score_graph(result.model, result.spec, test)
    held_out = evaluate_edge_probabilities(ctx.options.model_type, test, None, edge_prob)
    return {f"test_{k}": v for k, v in held_out.items() if isinstance(v, (int, float)) and k not in ("k", "max_hops")}


def _tuned_config(ctx: RunContext, train, val, config):
    from gnn_neo4j.training import TrainConfig
    from gnn_neo4j.tuning import GNNHyperparameterOptimizer

    tracker = None
    if ctx.options.track:
        from gnn_neo4j.tracking import MLflowTracker

        tracker = MLflowTracker.from_settings(ctx.settings)
    study = f"run-{ctx.options.model_type}-{ctx.mapping.name}"
    with GNNHyperparameterOptimizer(ctx.options.model_type, storage=ctx.settings.optuna_storage_url, study_name=study,
                                    seed=ctx.options.seed, tracker=tracker) as optimizer:
        summary = optimizer.optimize(train, val, n_trials=ctx.options.tune_trials,
                                     max_epochs=ctx.options.tune_max_epochs, mapping=ctx.mapping)
    ctx.metrics["tuning"] = {"study": study, "best_score": summary.get("best_score"), "n_trials": summary.get("n_trials")}
    if not summary.get("best_config"):
        return config
    return TrainConfig.from_dict(summary["best_config"])


def _train_plain(ctx: RunContext, train, val, test, config) -> None:
    from gnn_neo4j.training import save_model

    ctx.result = _fit_or_refuse(train, val, config, ctx.mapping)
    ctx.metrics["label_counts"] = dict(ctx.result.label_counts)
    ctx.metrics.update(_held_out(ctx, ctx.result, test))
    ctx.model_version = f"unregistered-{model_version_of(ctx.result)}"
    if ctx.options.save_dir is not None:
        save_model(ctx.result, ctx.options.save_dir / ctx.model_version)


def _train_tracked(ctx: RunContext, train, val, test, config) -> None:
    from gnn_neo4j.tracking import MLflowTracker, evaluation_gate
    from gnn_neo4j.training import save_model

    options = ctx.options
    tracker = MLflowTracker.from_settings(ctx.settings)
    with tracker.start_run(run_name=f"train-{options.model_type}", tags={"mapping": ctx.mapping.name}) as run_id:
        tracker.log_model_parameters(config)
        result = _fit_or_refuse(train, val, config, ctx.mapping)
        tracker.log_metric_history(result.history)
        held_out = _held_out(ctx, result, test)
        tracker.log_training_metrics({**held_out, "training_seconds": result.training_seconds,
                                      "epochs_to_convergence": result.epochs_to_convergence})
        tracker.log_pytorch_model(result)
        gate = evaluation_gate(held_out, minimums={"test_auc_roc": options.gate_min_auc_roc})
        ctx.metrics.update({"label_counts": dict(result.label_counts), **held_out, "mlflow_run_id": run_id,
                            "gate_passed": bool(gate)})
        if gate:
            version = tracker.register_model(options.registered_model, run_id=run_id, gate=gate,
                                             tags={"mapping": ctx.mapping.name, "model_type": options.model_type})
            if options.promote:
                tracker.promote(options.registered_model, version)
            ctx.result, ctx.model_version = result, f"{options.registered_model}/{version}"
        elif tracker.alias_version(options.registered_model, "champion") is not None:
            log.warning("new model failed the evaluation gate (%s); scoring with the champion", gate)
            ctx.result, version = tracker.load_model(options.registered_model)
            ctx.model_version = f"{options.registered_model}/{version}"
        else:
            log.warning("new model failed the evaluation gate (%s) and there is no champion; scoring with the "
                        "unregistered model", gate)
            ctx.result, ctx.model_version = result, f"unregistered-{model_version_of(result)}"
    if options.save_dir is not None:
        save_model(ctx.result, options.save_dir / ctx.model_version.replace("/", "-"))


def score_stage(ctx: RunContext) -> None:
    from gnn_neo4j.scoring import rank_paths
    from gnn_neo4j.training import predict

    ctx.edge_prob, ctx.node_risk = predict(ctx.result.model, ctx.result.spec, ctx.data, node_risk=ctx.options.node_risk,
                                           n_trials=ctx.options.risk_trials, seed=ctx.options.seed)
    ctx.paths = rank_paths(ctx.data, ctx.edge_prob, ctx.options.k, ctx.options.max_hops)
    ctx.counts["paths"] = len(ctx.paths)


def write_back_stage(ctx: RunContext) -> None:
    from gnn_neo4j import writeback

    data = ctx.data
    ctx.stamp = writeback.begin_run(ctx.runner, ctx.mapping, ctx.model_version)
    edges = list(zip(data.node_ids[data.edge_src].tolist(), data.edge_type.tolist(), data.node_ids[data.edge_dst].tolist()))
    written = writeback.stage_scores(ctx.runner, ctx.mapping, ctx.stamp, data.node_ids.tolist(), ctx.node_risk, edges,
                                     ctx.edge_prob, ctx.paths, ctx.settings.batch_size)
    ctx.counts.update({f"written_{k}": v for k, v in written.items()})
    writeback.commit_run(ctx.runner, ctx.mapping, ctx.stamp, ctx.counts, _finite(ctx.metrics))
    ctx.committed = True


def cleanup_stage(ctx: RunContext) -> None:
    from gnn_neo4j import writeback

    ctx.counts.update({f"removed_{k}": v for k, v in writeback.cleanup(ctx.runner, ctx.mapping, ctx.stamp).items()})


Stage = Callable[[RunContext], None]
RUN_STAGES: tuple[tuple[str, Stage], ...] = (
    ("export", export_stage), ("train", train_stage), ("score", score_stage),
    ("write_back", write_back_stage), ("cleanup", cleanup_stage),
)


def run_stages(ctx: RunContext, stages: Sequence[tuple[str, Stage]] = RUN_STAGES,
               on_stage: Callable[[str, float], None] | None = None) -> RunContext:
    """Run ``stages`` in order; on failure after write-back began, mark the generation failed and re-raise."""
    from gnn_neo4j import writeback

    for name, stage in stages:
        began = time.perf_counter()
        try:
            stage(ctx)
        except BaseException as exc:
            if ctx.stamp is not None and not ctx.committed:
                try:
                    writeback.fail_run(ctx.runner, ctx.mapping, ctx.stamp, f"{name}: {exc}")
                except Exception:  # noqa: BLE001 - the original error matters more; the next run abandons it
                    log.exception("could not mark generation %s failed", ctx.stamp.generation)
            raise
        ctx.timings[name] = time.perf_counter() - began
        log.info("stage %s done in %.2fs", name, ctx.timings[name])
        if on_stage is not None:
            on_stage(name, ctx.timings[name])
    return ctx


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, float) and not np.isfinite(value):
            continue
        out[key] = value
    return out


# ---- evaluation behind `gnn-neo4j train` -------------------------------------------------------------------------
@dataclass
class Comparison:
    """Metrics of the trained model and every baseline on the same held-out data."""

    source: str
    results: dict[str, dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    train_result: Any = None


def compare_synthetic(options: RunOptions, mapping: Mapping, size: str, seeds: Sequence[int],
                      runner: GraphRunner | None = None) -> Comparison:
    """Train on seed 1, early-stop on seed 2, evaluate the model and all baselines on seed 3 (different graphs)."""
    from gnn_neo4j.evaluation import compare_on_test
    from gnn_neo4j.synthetic import generate_splits
    from gnn_neo4j.training import fit

    train_env, val_env, test_env = generate_splits(tuple(seeds), size=size)
    train, val, test = (from_property_graph(env.graph, mapping) for env in (train_env, val_env, test_env))
    result = fit(train, val, train_config(options), mapping=mapping)
    extra, notes = _gds_baseline(runner, [train], test, mapping, options.seed)
    results = compare_on_test({options.model_type: result}, train, test, test_env.ground_truth, extra=extra,
                              k=options.k, max_hops=options.max_hops, seed=options.seed)
    return Comparison(f"synthetic {size}, seeds train/val/test = {tuple(seeds)}", results, notes, result)


def compare_on_graph(options: RunOptions, mapping: Mapping, data: AttackGraphData,
                     runner: GraphRunner | None = None) -> Comparison:
    """Disjoint labelled-edge splits of one real graph: train / validation / held-out test edges."""
    from gnn_neo4j.baselines import run_baselines
    from gnn_neo4j.evaluation import evaluate_edge_probabilities
    from gnn_neo4j.training import score_graph, split_labelled_edges

    labelled = int(data.labelled_mask.sum())
    if labelled < MIN_LABELLED_EDGES:
        if not mapping.priors():
            raise _no_labels(mapping, labelled)
        result = _fit_or_refuse(data, None, train_config(options), mapping)
        summary = {"model": options.model_type, "labelled_edges": labelled, "label_counts": dict(result.label_counts),
                   "training_seconds": result.training_seconds, "epochs_to_convergence": result.epochs_to_convergence}
        return Comparison("current graph, no held-out outcomes", {options.model_type: summary}, [
            f"only {labelled} labelled edges: trained on the mapping's priors (weak labels); a held-out evaluation "
            "needs outcomes ('exploited') or analyst feedback (gnn.feedback)"], result)
    train, val, test = split_labelled_edges(data, TEST_SPLIT, seed=options.seed)
    result = _fit_or_refuse(train, val, train_config(options), mapping)
    edge_prob, _ = score_graph(result.model, result.spec, test)
    results = {options.model_type: evaluate_edge_probabilities(options.model_type, test, None, edge_prob)}
    results[options.model_type]["training_seconds"] = result.training_seconds
    results[options.model_type]["epochs_to_convergence"] = result.epochs_to_convergence
    results[options.model_type]["label_counts"] = dict(result.label_counts)
    for name, scores in run_baselines(train, test, max_hops=options.max_hops, seed=options.seed, mapping=mapping).items():
        results[name] = evaluate_edge_probabilities(name, test, None, scores.edge_prob)
    extra, notes = _gds_baseline(runner, [train], test, mapping, options.seed)
    for name, (prob, _) in extra.items():
        results[name] = evaluate_edge_probabilities(name, test, None, prob)
    notes.append("no ground truth for a real graph: path and risk metrics need a synthetic graph (--source synthetic)")
    return Comparison(f"current graph, disjoint labelled-edge splits {TEST_SPLIT}", results, notes, result)


def _fit_or_refuse(train, val, config, mapping: Mapping):
    """`training.fit`, with its "no training labels" refusal turned into a user-facing GnnError."""
    from gnn_neo4j.training import fit

    try:
        return fit(train, val, config, mapping=mapping)
    except ValueError as exc:
        if "no training labels" in str(exc):
            raise GnnError(str(exc)) from exc
        raise


def _gds_baseline(runner: GraphRunner | None, train: list[AttackGraphData], test: AttackGraphData,
                  mapping: Mapping, seed: int) -> tuple[dict[str, tuple[np.ndarray, None]], list[str]]:
    if runner is None:
        return {}, ["GDS GraphSAGE + LR baseline skipped: no Neo4j with GDS configured"]
    from gnn_neo4j.gds_baseline import gds_graphsage_lr

    edge_prob, _ = gds_graphsage_lr(runner, train, test, mapping, seed=seed)
    return {"gds_graphsage_lr": (edge_prob, None)}, []
