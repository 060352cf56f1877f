"""`OptimizedGNNService`: the seed's Python API over the real pipeline pieces.

The seed document's workflow, with measured results instead of constants::

    service = OptimizedGNNService()
    train, val, test = service.prepare_training_data(generate_splits((1, 2, 3), size="small"))
    service.optimize_hyperparameters(train, val, test, model_types=["graphsage", "gat"], n_trials=20)
    for model_type in ("graphsage", "gat"):
        service.train_optimized_model(train, val, test, model_type=model_type, use_optimized_params=True)
    comparison = service.compare_models()              # every DESIGN metric on the held-out test graph
    recommendation = service.get_model_recommendations()
    service.save_models("models/production"); service.load_models("models/production")
    service.get_attack_paths(source="load-balancer-000000", target="data-store-000003")
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from gnn_neo4j.dataset import AttackGraphData, from_property_graph
from gnn_neo4j.mapping import Mapping, load_mapping
from gnn_neo4j.settings import Settings, load_settings

log = logging.getLogger(__name__)


class OptimizedGNNService:
    """Prepare data, tune, train, compare, recommend, persist and query GNN attack-path models.

    Args:
        settings: where Optuna/MLflow storage lives (default: `load_settings()`).
        mapping: mapping name/path or `Mapping` (default ``canonical``).
        track: log tuning to MLflow (the tracking URI from settings).
        seed: seed for tuning and training.
    """

    def __init__(self, settings: Settings | None = None, mapping: str | Mapping = "canonical", track: bool = False,
                 seed: int = 0) -> None:
        self.settings = settings or load_settings()
        self.mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        self.track = track
        self.seed = seed
        self.optimization_results: dict[str, dict[str, Any]] = {}
        self.models: dict[str, Any] = {}  # model type -> training.TrainResult
        self.evaluations: dict[str, dict[str, Any]] = {}
        self._train: list[AttackGraphData] = []
        self._test: AttackGraphData | None = None
        self._test_truth = None

    # ---- data --------------------------------------------------------------------------------------------------
    def prepare_training_data(self, environments: Sequence[Any]) -> tuple[AttackGraphData, AttackGraphData, AttackGraphData]:
        """Three synthetic environments (train, validation, test: different seeds) -> attack graphs.

        Accepts `SyntheticEnvironment` objects (their ground truth is kept aside for evaluation only) or
        `AttackGraphData` (e.g. `split_labelled_edges` of an exported real graph).
        """
        if len(environments) != 3:
            raise ValueError("prepare_training_data needs exactly three graphs: train, validation, test")
        graphs, truths = [], []
        for environment in environments:
            if isinstance(environment, AttackGraphData):
                graphs.append(environment)
                truths.append(None)
            else:
                graphs.append(from_property_graph(environment.graph, self.mapping))
                truths.append(environment.ground_truth)
        self._train, self._test, self._test_truth = [graphs[0]], graphs[2], truths[2]
        return graphs[0], graphs[1], graphs[2]

    # ---- tuning and training -----------------------------------------------------------------------------------
    def optimize_hyperparameters(self, train_data: AttackGraphData, val_data: AttackGraphData,
                                 test_data: AttackGraphData | None = None,
                                 model_types: Sequence[str] = ("graphsage", "gat"), n_trials: int = 100,
                                 max_epochs: int | None = None, study_prefix: str = "service") -> dict[str, dict[str, Any]]:
        """Optuna search per model type (RDB storage from settings, pruning, resumable); returns the summaries."""
        from gnn_neo4j.tuning import GNNHyperparameterOptimizer

        tracker = None
        if self.track:
            from gnn_neo4j.tracking import MLflowTracker

            tracker = MLflowTracker.from_settings(self.settings)
        for model_type in model_types:
            with GNNHyperparameterOptimizer(model_type, storage=self.settings.optuna_storage_url,
                                            study_name=f"{study_prefix}-{model_type}", seed=self.seed,
                                            tracker=tracker) as optimizer:
                self.optimization_results[model_type] = optimizer.optimize(
                    train_data, val_data, test_data, n_trials=n_trials, max_epochs=max_epochs, mapping=self.mapping)
        return self.optimization_results

    def train_optimized_model(self, train_data: AttackGraphData, val_data: AttackGraphData,
                              test_data: AttackGraphData | None = None, model_type: str = "graphsage",
                              use_optimized_params: bool = True, **overrides: Any):
        """Train one model (with the tuned hyperparameters when available) and evaluate it on ``test_data``."""
        from gnn_neo4j.training import TrainConfig, fit

        tuned = self.optimization_results.get(model_type, {}).get("best_config") if use_optimized_params else None
        if tuned:
            config = TrainConfig.from_dict({**tuned, **overrides})
        else:
            config = TrainConfig(model_type=model_type, seed=self.seed, **overrides)
        result = fit(train_data, val_data, config, mapping=self.mapping)
        self.models[model_type] = result
        if test_data is not None:
            from gnn_neo4j.evaluation import evaluate_model_on_environment

            truth = self._test_truth if test_data is self._test else None
            self.evaluations[model_type] = evaluate_model_on_environment(result, test_data, truth, name=model_type)
        return result

    # ---- comparison ----------------------------------------------------------------------------------------------
    def compare_models(self, baselines: bool = True) -> dict[str, Any]:
        """Every trained model and the baselines on the prepared test graph; ``best_model`` by NDCG@K (else AUC-PR)."""
        if not self.models:
            raise ValueError("no trained models: call train_optimized_model first")
        results = dict(self.evaluations)
        if self._test is not None and self._test_truth is not None:
            from gnn_neo4j.evaluation import compare_on_test

            results = compare_on_test(self.models, self._train, self._test, self._test_truth, baselines=baselines,
                                      seed=self.seed)
        key = "ndcg_at_k" if any(_finite(r.get("ndcg_at_k")) for r in results.values()) else "auc_pr"
        ranked = sorted((name for name in self.models if name in results),
                        key=lambda name: _finite(results[name].get(key)) or -math.inf, reverse=True)
        return {"results": results, "best_model": ranked[0] if ranked else None, "ranked_by": key}

    def get_model_recommendations(self) -> dict[str, Any]:
        """Which model to deploy and why, from the measured comparison."""
        comparison = self.compare_models(baselines=True)
        best = comparison["best_model"]
        results = comparison["results"]
        reasons = []
        for metric in ("ndcg_at_k", "risk_score_correlation", "auc_pr", "latency_ms"):
            value = results.get(best, {}).get(metric)
            if _finite(value) is not None:
                baseline_best = max((_finite(r.get(metric)) for n, r in results.items() if n not in self.models
                                     and _finite(r.get(metric)) is not None), default=None)
                reasons.append(f"{metric} = {value:.3f}" + (f" (best baseline {baseline_best:.3f})"
                                                             if baseline_best is not None and metric != "latency_ms" else ""))
        return {"recommended_model": best, "ranked_by": comparison["ranked_by"], "reasons": reasons}

    # ---- persistence and queries ---------------------------------------------------------------------------------
    def save_models(self, directory: str | Path) -> list[Path]:
        """Save every trained model as state_dict + config.json under ``directory/<model_type>``."""
        from gnn_neo4j.training import save_model

        return [save_model(result, Path(directory) / name) for name, result in self.models.items()]

    def load_models(self, directory: str | Path) -> list[str]:
        """Load every model saved by `save_models` (weights_only=True)."""
        from gnn_neo4j.training import load_model

        loaded = []
        for path in sorted(Path(directory).iterdir()):
            if (path / "config.json").exists():
                self.models[path.name] = load_model(path)
                loaded.append(path.name)
        return loaded

    def get_attack_paths(self, source: str, target: str, model_type: str | None = None, k: int = 5,
                         max_hops: int = 8, data: AttackGraphData | None = None) -> list[dict[str, Any]]:
        """The k most probable paths from ``source`` to ``target`` (asset ids) under a model's edge probabilities."""
        from gnn_neo4j.paths import AttackGraph
        from gnn_neo4j.training import score_graph

        data = data or self._test
        if data is None:
            raise ValueError("no graph: pass data= or call prepare_training_data first")
        model_type = model_type or next(iter(self.models), None)
        if model_type not in self.models:
            raise ValueError(f"no trained or loaded model {model_type!r}; have: {', '.join(self.models) or 'none'}")
        index = data.id_index([source, target])
        if (index < 0).any():
            missing = [x for x, i in zip((source, target), index) if i < 0]
            raise ValueError(f"unknown asset id(s): {', '.join(missing)}")
        result = self.models[model_type]
        edge_prob, _ = score_graph(result.model, result.spec, data)
        graph = AttackGraph(data.num_nodes, data.edge_src, data.edge_dst, edge_prob, rel_types=data.edge_type.tolist())
        return [
            {"rank": rank, "probability": path.probability, "hops": path.hops,
             "node_ids": [str(data.node_ids[i]) for i in path.nodes], "rel_types": list(path.rel_types)}
            for rank, path in enumerate(graph.k_best_paths(int(index[0]), int(index[1]), k, max_hops), start=1)
        ]


def _finite(value: Any) -> float | None:
    if isinstance(value, (int, float, np.floating)) and math.isfinite(float(value)):
        return float(value)
    return None
