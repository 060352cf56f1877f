"""Hyperparameter tuning of the attack-path GNNs with Optuna. The only module that imports optuna.

- **Search space** (`search_space`): exactly the seed's sets, sampled as categoricals (the seed defines discrete
  sets, and TPE models categoricals directly) except ``num_layers`` (an integer range 2..5)::

      hidden_dim    32, 64, 128, 256          learning_rate  1e-4, 1e-3, 1e-2 (log-spaced)
      num_layers    2..5                      weight_decay   1e-5, 1e-4, 1e-3
      num_heads     2, 4, 8   (GAT only)      batch_size     32, 64, 128, 256 (labelled edges per mini-batch)
      dropout       0.1 .. 0.5 (step 0.1)     epochs         50, 100, 150, 200
                                              patience       10, 20, 30, 50

  GAT needs ``hidden_dim`` divisible by ``num_heads`` (each head is ``hidden_dim / num_heads`` wide); every seed
  width is a multiple of 8, so every combination is valid and nothing is constrained or resampled.
  ``batch_size`` goes to `TrainConfig.batch_size`, so every trial trains with mini-batches (LinkNeighborLoader).
- **Budget** (`train_config`, ``max_epochs``): for tests and CPU runs the *effective* epochs are capped at
  ``max_epochs``. The sampled ``epochs`` stays in the trial's parameters (never dropped); the cap is recorded as the
  trial user attributes ``max_epochs`` and ``effective_epochs``.
- **Objective**: validation **AUC-PR** (``val_auc_pr``, maximised) of the kept model (the epoch early stopping
  restored, monitored on validation loss). AUC-PR is reported **every epoch** through `training.fit`'s
  ``on_epoch`` so `optuna.pruners.MedianPruner` (5 startup trials, 10 warm-up epochs by default) can stop weak
  trials. Validation graphs need observed labels of both classes, else AUC-PR is undefined and tuning refuses.
- **Storage**: `optuna.storages.RDBStorage` with heartbeat, grace period and
  ``RetryHeartbeatStaleTrialCallback`` (Optuna's current name of ``RetryFailedTrialCallback``), and
  ``create_study(load_if_exists=True)``: a killed tuner's running trial is marked failed and re-queued with the same
  parameters when any worker next runs, and any number of ``gnn-neo4j tune`` workers on one PostgreSQL URL share
  the study (SQLite is for one machine). ``n_trials`` is the study-wide target of finished (complete + pruned)
  trials, so a restarted or additional worker only runs what is missing.
- **Sampler**: `optuna.samplers.TPESampler` seeded with ``seed`` on a fresh study (reproducible); a worker joining or
  resuming a study with ``n`` trials uses ``seed + n`` so it does not replay the first worker's draws. Workers
  started at the same moment on an empty study should be given different seeds.
- **Test graph**: given ``test_data``, the best trial's model is evaluated on it once, after the search; it never
  influences selection.

With an `MLflowTracker`, the study gets one parent run (resumed with the study) and every trial a nested run
(parameters, objective, state, and its per-epoch curves).
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from gnn_neo4j import training
from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.models import MODEL_TYPES

if TYPE_CHECKING:
    from gnn_neo4j.ground_truth import GroundTruth
    from gnn_neo4j.mapping import Mapping as GraphMapping
    from gnn_neo4j.tracking import MLflowTracker

log = logging.getLogger(__name__)

OBJECTIVE_METRIC = "val_auc_pr"
"""What a trial maximises: validation AUC-PR (reported every epoch, final value of the kept model)."""
MLFLOW_OBJECTIVE_METRIC = f"objective_{OBJECTIVE_METRIC}"
"""Name of the objective value in each trial's MLflow run (the per-epoch curve keeps ``val_auc_pr``)."""
DIRECTION = "maximize"

SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "hidden_dim": (32, 64, 128, 256),
    "num_layers": (2, 3, 4, 5),
    "num_heads": (2, 4, 8),
    "dropout": (0.1, 0.2, 0.3, 0.4, 0.5),
    "learning_rate": (1e-4, 1e-3, 1e-2),
    "weight_decay": (1e-5, 1e-4, 1e-3),
    "batch_size": (32, 64, 128, 256),
    "epochs": (50, 100, 150, 200),
    "patience": (10, 20, 30, 50),
}
"""The seed's search space (``num_heads`` applies to GAT only)."""
GAT_ONLY = frozenset({"num_heads"})
# Fields of TrainConfig the search space owns; `fixed` settings may not override them.
_SEARCHED = frozenset(SEARCH_SPACE) | {"model_type"}
_STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")


class TuningError(ValueError):
    """Tuning cannot run as asked (no usable validation labels, a study of another model type, bad names)."""


def space_for(model_type: str) -> dict[str, tuple[Any, ...]]:
    """The seed's search space of one model type (GraphSAGE has no ``num_heads``).

    Raises:
        TuningError: unknown model type.
    """
    if model_type not in MODEL_TYPES:
        raise TuningError(f"unknown model type {model_type!r}; known: {', '.join(MODEL_TYPES)}")
    return {name: values for name, values in SEARCH_SPACE.items() if model_type == "gat" or name not in GAT_ONLY}


def search_space(trial: optuna.trial.BaseTrial, model_type: str) -> dict[str, Any]:
    """Sample one configuration of the seed's search space (see the module docstring).

    Args:
        trial: the Optuna trial (or a ``FixedTrial``).
        model_type: ``graphsage`` or ``gat``.

    Returns:
        Hyperparameter name -> sampled value; every name of `space_for(model_type)` is present.

    Raises:
        TuningError: unknown model type.
    """
    space = space_for(model_type)
    params: dict[str, Any] = {}
    for name, values in space.items():
        if name == "num_layers":
            params[name] = trial.suggest_int(name, min(values), max(values))
        else:
            params[name] = trial.suggest_categorical(name, list(values))
    return params


def train_config(params: Mapping[str, Any], model_type: str, *, max_epochs: int | None = None, seed: int = 0,
                 device: str = "cpu", fixed: Mapping[str, Any] | None = None) -> training.TrainConfig:
    """Turn sampled hyperparameters into a `TrainConfig`, applying the epoch budget.

    Args:
        params: what `search_space` returned (or a trial's ``params``).
        model_type: ``graphsage`` or ``gat``.
        max_epochs: cap on the effective epochs (None: the sampled value).
        seed: training seed (the same for every trial, so the best trial can be reproduced).
        device: torch device.
        fixed: other `TrainConfig` fields that are not searched (``num_neighbors``, ``risk_trials`` ...).

    Returns:
        The config.

    Raises:
        TuningError: a searched hyperparameter is missing from ``params`` or appears in ``fixed``.
    """
    space = space_for(model_type)
    missing = sorted(set(space) - set(params))
    if missing:
        raise TuningError(f"hyperparameters missing: {', '.join(missing)}")
    overlap = sorted(set(fixed or {}) & _SEARCHED)
    if overlap:
        raise TuningError(f"fixed settings may not override searched hyperparameters: {', '.join(overlap)}")
    values = {name: params[name] for name in space}
    if max_epochs is not None:
        if max_epochs < 1:
            raise TuningError(f"max_epochs must be >= 1, got {max_epochs}")
        values["epochs"] = min(int(values["epochs"]), int(max_epochs))
    return training.TrainConfig(model_type=model_type, seed=seed, device=device, **dict(fixed or {}), **values)


def _has_both_classes(graphs: Sequence[AttackGraphData]) -> bool:
    labels = [np.where(np.isnan(g.edge_feedback), g.edge_label, g.edge_feedback) for g in graphs]
    known = np.concatenate([lab[~np.isnan(lab)] for lab in labels]) if labels else np.array([])
    return bool((known == 1).any() and (known == 0).any())


def _as_list(data: AttackGraphData | Sequence[AttackGraphData]) -> list[AttackGraphData]:
    return [data] if isinstance(data, AttackGraphData) else list(data)


def redact_storage_url(url: str) -> str:
    """A storage URL fit for logs, MLflow and output: the password (if any) masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as nothing rather than risk leaking it
        return "<unparsable storage URL>"


@contextmanager
def _optuna_experimental() -> Iterator[None]:
    # RDB heartbeats and RetryHeartbeatStaleTrialCallback are Optuna's documented mechanism for resuming killed
    # trials, flagged "experimental" (interface may change); this module is the one place that depends on them.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ExperimentalWarning)
        yield


def route_optuna_logging() -> None:
    """Send Optuna's log records through the standard ``logging`` tree (``optuna.*``) instead of its own stderr
    handler, so the application's logging configuration (e.g. the CLI's ``-v``) decides what is shown."""
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    # Optuna pins its logger at INFO; NOTSET lets the records follow the root logger's level instead.
    logging.getLogger("optuna").setLevel(logging.NOTSET)


def trial_summary(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A JSON-friendly view of one trial: number, state, value, params, retry origin, last reported epoch."""
    return {
        "number": trial.number,
        "state": trial.state.name,
        "value": trial.value if trial.state == TrialState.COMPLETE else None,
        "params": dict(trial.params),
        "retried_from": trial.system_attrs.get("failed_trial"),
        "last_epoch": max(trial.intermediate_values) if trial.intermediate_values else None,
        "user_attrs": dict(trial.user_attrs),
    }


class GNNHyperparameterOptimizer:
    """Tune a GraphSAGE or GAT attack-path model with Optuna (see the module docstring).

    Args:
        model_type: ``graphsage`` or ``gat``.
        storage: Optuna RDB URL (``sqlite:///...``, ``postgresql://...``); default the settings'
            ``optuna_storage_url`` (``sqlite:///<data_dir>/optuna.db``). Put database passwords in the
            environment (e.g. ``GNN_NEO4J_OPTUNA_STORAGE`` or ``PGPASSWORD``), not on command lines.
        study_name: study to create or resume; default ``gnn-<model_type>``.
        seed: sampler seed and training seed.
        tracker: an `MLflowTracker` for the parent/nested runs; None tracks nothing.
        n_startup_trials: MedianPruner: finished trials before pruning starts.
        n_warmup_steps: MedianPruner: epochs of a trial before it may be pruned.
        heartbeat_interval: seconds between a running trial's heartbeats.
        grace_period: seconds without heartbeat after which a running trial counts as killed.
        max_retry: how often a killed trial is re-queued.
        device: torch device of training.
        fixed: further `TrainConfig` fields that are not searched (``num_neighbors``, ``risk_trials``,
            ``monitor`` ...).

    Raises:
        TuningError: unknown model type, invalid study name, or ``fixed`` naming a searched hyperparameter.
    """

    def __init__(self, model_type: str, storage: str | None = None, study_name: str | None = None, seed: int = 0,
                 tracker: MLflowTracker | None = None, *, n_startup_trials: int = 5, n_warmup_steps: int = 10,
                 heartbeat_interval: int = 60, grace_period: int = 120, max_retry: int = 3, device: str = "cpu",
                 fixed: Mapping[str, Any] | None = None) -> None:
        space_for(model_type)
        if storage is None:
            from gnn_neo4j.settings import load_settings

            storage = load_settings().optuna_storage_url
        study_name = study_name or f"gnn-{model_type}"
        if not _STUDY_NAME.match(study_name):
            raise TuningError(f"invalid study name {study_name!r}: use letters, digits, '_', '.', ':' or '-'")
        overlap = sorted(set(fixed or {}) & _SEARCHED)
        if overlap:
            raise TuningError(f"fixed settings may not override searched hyperparameters: {', '.join(overlap)}")
        self.model_type = model_type
        self.storage_url = storage
        self.study_name = study_name
        self.seed = int(seed)
        self.tracker = tracker
        self.n_startup_trials = n_startup_trials
        self.n_warmup_steps = n_warmup_steps
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.max_retry = max_retry
        self.device = device
        self.fixed = dict(fixed or {})
        self.best_result: training.TrainResult | None = None
        """After `optimize`: the best trial's trained model when it was trained (or retrained) by this process."""
        self._storage: optuna.storages.RDBStorage | None = None

    # -- study ------------------------------------------------------------------------------------------------

    @property
    def storage_display(self) -> str:
        """The storage URL with any password masked."""
        return redact_storage_url(self.storage_url)

    def _rdb_storage(self) -> optuna.storages.RDBStorage:
        if self._storage is None:
            engine_kwargs: dict[str, Any] = {}
            if self.storage_url.startswith("sqlite:///"):
                path = self.storage_url[len("sqlite:///"):].split("?", 1)[0]
                if path and path != ":memory:":
                    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
                # Several local processes may share one SQLite file; wait for a lock instead of failing at once.
                engine_kwargs["connect_args"] = {"timeout": 30}
            with _optuna_experimental():
                self._storage = optuna.storages.RDBStorage(
                    self.storage_url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=self.heartbeat_interval,
                    grace_period=self.grace_period,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=self.max_retry),
                )
        return self._storage

    def study(self, sampler_seed: int | None = None) -> optuna.Study:
        """Create the study, or load it if it exists (``load_if_exists=True``).

        Args:
            sampler_seed: TPE seed; default ``seed`` plus the number of trials already in the study.

        Returns:
            The study.

        Raises:
            TuningError: the existing study was created for another model type or objective, or not by gnn-neo4j.
        """
        storage = self._rdb_storage()
        if sampler_seed is None:
            existing = optuna.study.get_all_study_summaries(storage, include_best_trial=False)
            count = next((s.n_trials for s in existing if s.study_name == self.study_name), 0)
            sampler_seed = self.seed + count
        pruner = optuna.pruners.MedianPruner(n_startup_trials=self.n_startup_trials,
                                             n_warmup_steps=self.n_warmup_steps)
        study = optuna.create_study(storage=storage, study_name=self.study_name, direction=DIRECTION,
                                    sampler=optuna.samplers.TPESampler(seed=sampler_seed), pruner=pruner,
                                    load_if_exists=True)
        attrs = study.user_attrs
        if not attrs and (study.direction != optuna.study.StudyDirection.MAXIMIZE
                          or study.get_trials(deepcopy=False)):
            raise TuningError(f"study {self.study_name!r} in {self.storage_display} was not created by gnn-neo4j; "
                              "choose another study name")
        if not attrs:
            study.set_user_attr("model_type", self.model_type)
            study.set_user_attr("objective", OBJECTIVE_METRIC)
        elif attrs.get("model_type") != self.model_type or attrs.get("objective") != OBJECTIVE_METRIC:
            raise TuningError(f"study {self.study_name!r} in {self.storage_display} tunes "
                              f"{attrs.get('model_type')} on {attrs.get('objective')}, not {self.model_type} on "
                              f"{OBJECTIVE_METRIC}; choose another study name")
        return study

    def trials(self) -> list[dict[str, Any]]:
        """Every trial of the study so far (`trial_summary` of each)."""
        return [trial_summary(t) for t in self.study().get_trials(deepcopy=False)]

    def close(self) -> None:
        """Release the storage's database connections (the optimizer reconnects if used again)."""
        if self._storage is not None:
            self._storage.remove_session()
            self._storage.engine.dispose()
            self._storage = None

    def __enter__(self) -> "GNNHyperparameterOptimizer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- optimisation -----------------------------------------------------------------------------------------

    def optimize(
        self,
        train_data: AttackGraphData | Sequence[AttackGraphData],
        val_data: AttackGraphData | Sequence[AttackGraphData],
        test_data: AttackGraphData | None = None,
        n_trials: int = 100,
        timeout: float | None = None,
        max_epochs: int | None = None,
        *,
        mapping: GraphMapping | None = None,
        test_ground_truth: GroundTruth | None = None,
        on_trial: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Run trials until the study holds ``n_trials`` finished (complete or pruned) trials, or ``timeout``.

        Args:
            train_data: training graph(s).
            val_data: validation graph(s): the objective (AUC-PR) is measured here; observed labels of both
                classes are required.
            test_data: held-out graph; the best trial's model is evaluated on it once, after the search.
            n_trials: study-wide target of finished trials (a resumed or second worker runs only what is missing).
            timeout: stop starting new trials after this many seconds.
            max_epochs: cap on each trial's effective epochs (tests, CPU); the sampled ``epochs`` is kept.
            mapping: the graphs' mapping (feature categories and priors for `training.fit`).
            test_ground_truth: hidden truth of ``test_data`` (synthetic), for the path and risk metrics.
            on_trial: called after every trial of this call with its `trial_summary`.

        Returns:
            ``best_params`` (the best trial's sampled hyperparameters), ``best_score`` (its validation AUC-PR),
            ``best_trial`` (number), ``best_config`` (the `TrainConfig` it trained with), ``n_trials`` (all trials in
            the study), ``n_complete``, ``n_pruned``, ``n_failed``, ``n_run`` (trials run by this call),
            ``study_name``, ``storage`` (password masked), ``objective``, ``direction``, ``test_metrics`` (when
            ``test_data`` was given and a trial completed) and ``mlflow_run_id`` (parent run, with a tracker).
            ``best_*`` are None while no trial has completed.

        Raises:
            TuningError: validation graphs without observed labels of both classes; a study of another model.
            ValueError: from `training.fit` (e.g. no training labels).
        """
        train_graphs, val_graphs = _as_list(train_data), _as_list(val_data)
        if not val_graphs or not _has_both_classes(val_graphs):
            raise TuningError("the validation graph(s) need observed outcome or feedback labels of both classes: "
                              f"{OBJECTIVE_METRIC} is undefined otherwise, so trials cannot be ranked")
        if n_trials < 1:
            raise TuningError(f"n_trials must be >= 1, got {n_trials}")
        began = time.perf_counter()
        self.best_result = None
        study = self.study()
        finished = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))
        remaining = max(0, n_trials - finished)
        log.info("study %s (%s): %d of %d trials finished, running up to %d", self.study_name,
                 self.storage_display, finished, n_trials, remaining)

        histories: dict[int, list[dict[str, float]]] = {}
        finals: dict[int, dict[str, float]] = {}
        best_local: dict[str, Any] = {}
        run_numbers: list[int] = []

        def objective(trial: optuna.Trial) -> float:
            params = search_space(trial, self.model_type)
            config = train_config(params, self.model_type, max_epochs=max_epochs, seed=self.seed,
                                  device=self.device, fixed=self.fixed)
            trial.set_user_attr("effective_epochs", config.epochs)
            if max_epochs is not None:
                trial.set_user_attr("max_epochs", int(max_epochs))
            history: list[dict[str, float]] = []
            histories[trial.number] = history

            def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
                history.append(metrics)
                value = metrics.get(OBJECTIVE_METRIC, math.nan)
                if not math.isnan(value):
                    trial.report(value, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {epoch} ({OBJECTIVE_METRIC} {value:.4f})")

            result = training.fit(train_graphs, val_graphs, config, on_epoch, mapping=mapping)
            value = result.metrics.get(OBJECTIVE_METRIC, math.nan)
            if value is None or math.isnan(value):
                raise TuningError(f"trial {trial.number}: {OBJECTIVE_METRIC} is undefined on the validation graphs")
            # The kept epoch's validation metrics are already on the per-epoch curves (at step best_epoch) and the
            # objective is logged by the callback; add only what the curves lack.
            curve_keys = set(history[0]) if history else set()
            finals[trial.number] = {**{k: v for k, v in result.metrics.items() if k not in curve_keys},
                                    "training_seconds": result.training_seconds, "best_epoch": result.best_epoch,
                                    "epochs_run": result.epochs_run}
            if not best_local or value > best_local["value"]:
                best_local.update(value=value, number=trial.number, result=result)
            return float(value)

        def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            run_numbers.append(trial.number)
            history = histories.pop(trial.number, [])
            final = finals.pop(trial.number, {})
            if self.tracker is not None and parent_run_id is not None:
                trial_run = self.tracker.find_trial_run(parent_run_id, trial.number)
                if trial_run is None:
                    log.warning("no MLflow run found for trial %d; its curves are not logged", trial.number)
                else:
                    self.tracker.log_metric_history(history, step_key="epoch", run_id=trial_run)
                    self.tracker.log_training_metrics(final, run_id=trial_run)
            log.debug("trial %d %s: value %s, params %s", trial.number, trial.state.name, trial.value, trial.params)
            if on_trial is not None:
                on_trial(trial_summary(trial))

        callbacks: list[Callable[[optuna.Study, optuna.trial.FrozenTrial], None]] = [
            optuna.study.MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE, TrialState.PRUNED))]
        run_context = self.tracker.study_run(self.study_name, tags=self._run_tags(n_trials, max_epochs)) \
            if self.tracker is not None else nullcontext(None)
        with run_context as parent_run_id:
            if self.tracker is not None:
                self.tracker.log_model_parameters({"model_type": self.model_type, "objective": OBJECTIVE_METRIC,
                                                   "direction": DIRECTION}, run_id=parent_run_id)
                callbacks.append(self.tracker.optuna_callback(MLFLOW_OBJECTIVE_METRIC))
            callbacks.append(after_trial)
            if remaining:
                study.optimize(objective, n_trials=remaining, timeout=timeout, callbacks=callbacks,
                               gc_after_trial=False)
            summary = self._summary(study, n_run=len(run_numbers))
            if test_data is not None and summary["best_trial"] is not None:
                summary["test_metrics"] = self._evaluate_best(study, best_local, train_graphs, val_graphs, test_data,
                                                              test_ground_truth, max_epochs, mapping)
            elif best_local and summary["best_trial"] == best_local.get("number"):
                self.best_result = best_local["result"]
            if self.tracker is not None:
                self._log_summary(self.tracker, summary, parent_run_id)
                summary["mlflow_run_id"] = parent_run_id
        log.info("tuning %s: %d trials run in %.1fs; best trial %s with %s %s", self.study_name, len(run_numbers),
                 time.perf_counter() - began, summary["best_trial"], OBJECTIVE_METRIC, summary["best_score"])
        return summary

    def _run_tags(self, n_trials: int, max_epochs: int | None) -> dict[str, Any]:
        return {"gnn.model_type": self.model_type, "optuna.storage": self.storage_display,
                "optuna.n_trials_target": n_trials, "optuna.max_epochs": max_epochs if max_epochs else "none",
                "optuna.sampler": "TPESampler", "optuna.seed": self.seed, "optuna.pruner": "MedianPruner",
                "optuna.pruner.n_startup_trials": self.n_startup_trials,
                "optuna.pruner.n_warmup_steps": self.n_warmup_steps}

    def _summary(self, study: optuna.Study, n_run: int) -> dict[str, Any]:
        trials = study.get_trials(deepcopy=False)
        counts = {state: sum(1 for t in trials if t.state == state) for state in TrialState}
        summary: dict[str, Any] = {
            "best_params": None, "best_score": None, "best_trial": None, "best_config": None,
            "n_trials": len(trials), "n_complete": counts[TrialState.COMPLETE], "n_pruned": counts[TrialState.PRUNED],
            "n_failed": counts[TrialState.FAIL], "n_run": n_run, "study_name": self.study_name,
            "storage": self.storage_display, "objective": OBJECTIVE_METRIC, "direction": DIRECTION,
        }
        if counts[TrialState.COMPLETE]:
            best = study.best_trial
            summary.update(best_params=dict(best.params), best_score=best.value, best_trial=best.number)
            if set(space_for(self.model_type)) <= set(best.params):
                config = train_config(best.params, self.model_type,
                                      max_epochs=best.user_attrs.get("max_epochs"), seed=self.seed,
                                      device=self.device, fixed=self.fixed)
                summary["best_config"] = config.to_dict()
        return summary

    def _evaluate_best(self, study: optuna.Study, best_local: Mapping[str, Any],
                       train_graphs: list[AttackGraphData], val_graphs: list[AttackGraphData],
                       test_data: AttackGraphData, test_ground_truth: GroundTruth | None, max_epochs: int | None,
                       mapping: GraphMapping | None) -> dict[str, Any] | None:
        from gnn_neo4j.evaluation import evaluate_model_on_environment

        best = study.best_trial
        if not set(space_for(self.model_type)) <= set(best.params):
            log.warning("best trial %d has no complete configuration (added by hand?); no test evaluation",
                        best.number)
            return None
        if best_local and best_local.get("number") == best.number:
            result = best_local["result"]
        else:
            # The best trial ran in another worker or an earlier run: train its configuration again (same seed).
            log.info("retraining best trial %d for the test evaluation", best.number)
            config = train_config(best.params, self.model_type, max_epochs=best.user_attrs.get("max_epochs",
                                                                                                max_epochs),
                                  seed=self.seed, device=self.device, fixed=self.fixed)
            result = training.fit(train_graphs, val_graphs, config, mapping=mapping)
        self.best_result = result
        metrics = evaluate_model_on_environment(result, test_data, test_ground_truth, seed=self.seed)
        log.info("best trial %d on the test graph: auc_pr %s", best.number, metrics.get("auc_pr"))
        return metrics

    @staticmethod
    def _log_summary(tracker: MLflowTracker, summary: Mapping[str, Any], run_id: str) -> None:
        step = int(summary["n_trials"])
        metrics = {key: summary[key] for key in ("n_trials", "n_complete", "n_pruned", "n_failed")}
        if summary["best_score"] is not None:
            metrics["best_score"] = summary["best_score"]
            metrics["best_trial"] = summary["best_trial"]
            metrics.update({f"best_{name}": value for name, value in summary["best_params"].items()})
        metrics.update({f"test_{name}": value for name, value in (summary.get("test_metrics") or {}).items()})
        tracker.log_training_metrics(metrics, step=step, run_id=run_id)
        if summary["best_params"] is not None:
            tracker.set_tags({"optuna.best_trial": summary["best_trial"], "optuna.best_params": summary["best_params"]},
                             run_id=run_id)
