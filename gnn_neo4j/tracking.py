"""Experiment tracking and the model registry (MLflow). The only module that imports mlflow.

Layout of what gets tracked:

- one **experiment** (default ``gnn-attack-paths``). With a SQLite tracking URI (the default,
  ``sqlite:///<data_dir>/mlflow.db``) the experiment is created with its artifact location in
  ``<data_dir>/mlartifacts/<experiment>``, so nothing lands in a ``./mlruns`` next to wherever the command ran;
- one **parent run per Optuna study** (`MLflowTracker.study_run`, resumed when the study resumes) with one
  **nested run per trial**, written by Optuna's `MLflowCallback` (`MLflowTracker.optuna_callback`) and completed
  with the trial's per-epoch curves (`MLflowTracker.log_metric_history`);
- **model artifacts** are the directory `gnn_neo4j.training.save_model` writes (tensors + ``config.json``), never a
  pickled ``mlflow.pytorch`` model: loading goes through `gnn_neo4j.training.load_model` with
  ``weights_only=True``, so nothing fetched from an artifact store can run code;
- the **registry** holds only models that passed evaluation (`register_model` takes the gate result and refuses
  otherwise) and uses **aliases**: a new version becomes ``challenger``; `MLflowTracker.promote` moves
  ``champion`` and remembers the previous champion in a model-version tag, so `MLflowTracker.rollback` can restore
  it. Scoring loads ``models:/<name>@champion`` (`MLflowTracker.load_model`) and gets the version back to stamp
  onto every score. Registry stages and ``get_latest_versions`` are deprecated in MLflow and not used.

Secrets never reach MLflow: parameters and tags whose key looks like a secret (``password``, ``secret``,
``token``, ``key``) or whose value is a `gnn_neo4j.settings.Secret` are dropped, and credentials inside URLs are
masked, before anything is sent.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

from gnn_neo4j import training
from gnn_neo4j.errors import GnnError
from gnn_neo4j.settings import Secret, Settings

log = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "gnn-attack-paths"
DEFAULT_MODEL_NAME = "attack_path_scorer"
CHALLENGER = "challenger"
CHAMPION = "champion"
MODEL_ARTIFACT_PATH = "model"

TAG_RUN_KIND = "gnn.run_kind"
TAG_STUDY_NAME = "gnn.study_name"
TAG_GATE = "gnn.gate"
TAG_PREVIOUS_CHAMPION = "gnn.previous_champion"
TAG_PROMOTED_AT = "gnn.promoted_at"
TAG_ROLLED_BACK_AT = "gnn.rolled_back_at"
# MLflowCallback tags every trial run with the trial number under this key.
TRIAL_NUMBER_TAG = "number"

SECRET_KEY_PARTS = ("password", "secret", "token", "key")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
_BATCH = 100  # MLflow's limit of params + tags per log_batch call
_METRIC_BATCH = 1000
# Direction of the metrics compare_versions can judge; counts and sizes (labelled_edges, crown_jewels ...) have none.
_LOWER_IS_BETTER = re.compile(r"(loss|_ms$|brier|seconds$|epochs_to_convergence$)")
_HIGHER_IS_BETTER = re.compile(r"(accuracy|precision|recall|f1|auc_roc|auc_pr|correlation|spearman|ndcg|"
                               r"top_k_precision|objective)")


class TrackingError(GnnError):
    """A tracking or registry operation cannot be done (no run, unknown model or alias, bad name)."""


class RegistrationRefused(TrackingError):
    """A model that did not pass evaluation was offered to the registry."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of the evaluation gate a model must pass before it may be registered.

    Attributes:
        passed: whether every condition held.
        failures: one readable line per failed condition.
        metrics: the metrics the gate looked at.
    """

    passed: bool
    failures: tuple[str, ...] = ()
    metrics: Mapping[str, float] | None = None

    def __bool__(self) -> bool:
        return self.passed


def evaluation_gate(metrics: Mapping[str, Any], minimums: Mapping[str, float] | None = None,
                    maximums: Mapping[str, float] | None = None) -> GateResult:
    """Check evaluation metrics against thresholds.

    Args:
        metrics: metric name -> value (e.g. what `gnn_neo4j.evaluation.evaluate_model_on_environment` returns).
        minimums: metric name -> lowest acceptable value (e.g. ``{"auc_pr": 0.6, "ndcg_at_k": 0.5}``).
        maximums: metric name -> highest acceptable value (e.g. ``{"latency_ms": 500}``).

    Returns:
        A `GateResult`; a metric that is missing, not a number or NaN fails its condition. With no conditions at
        all the gate fails: passing must be earned.
    """
    failures: list[str] = []
    checked: dict[str, float] = {}
    conditions = [(name, bound, ">=") for name, bound in (minimums or {}).items()]
    conditions += [(name, bound, "<=") for name, bound in (maximums or {}).items()]
    if not conditions:
        return GateResult(False, ("no gate conditions given",), {})
    for name, bound, op in conditions:
        value = _number(metrics.get(name))
        if value is None:
            failures.append(f"{name}: missing or not a number")
            continue
        checked[name] = value
        ok = value >= bound if op == ">=" else value <= bound
        if not ok:
            failures.append(f"{name} = {value:.4g}, needs {op} {bound:g}")
    return GateResult(not failures, tuple(failures), checked)


def redact_url(url: str | None) -> str | None:
    """The URL with any password replaced by ``***`` (for logs, tags and messages)."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def looks_like_secret(key: str, value: Any) -> bool:
    """Whether a parameter/tag must not be sent to MLflow: a secret-sounding key or a `Secret` value."""
    lowered = str(key).lower()
    return isinstance(value, Secret) or any(part in lowered for part in SECRET_KEY_PARTS)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise TrackingError(f"invalid {what} {value!r}: use letters, digits, '_', '.', ':' or '-' (max 128)")
    return value


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other schemes and in-memory databases)."""
    if not uri.startswith("sqlite:///"):
        return None
    raw = uri[len("sqlite:///"):].split("?", 1)[0]
    if not raw or raw == ":memory:":
        return None
    return Path(raw).expanduser().resolve()


def _iso(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None:
        return None
    return datetime.fromtimestamp(timestamp_ms / 1000.0, tz=timezone.utc).isoformat(timespec="seconds")


@contextmanager
def _no_download_progress() -> Iterator[None]:
    """Silence MLflow's artifact download progress bar (library code must not draw on the user's terminal)."""
    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    previous = os.environ.get(name)
    os.environ[name] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


class MLflowTracker:
    """Experiment tracking and model registry of the attack-path models.

    Args:
        experiment_name: MLflow experiment (created on first use).
        tracking_uri: MLflow tracking URI; default: the settings' ``tracking_uri``
            (``$MLFLOW_TRACKING_URI`` or ``sqlite:///<data_dir>/mlflow.db``). The registry uses the same URI.
        artifact_location: artifact root of a newly created experiment; default for a SQLite tracking URI:
            ``<directory of the database>/mlartifacts/<experiment_name>``, otherwise the server's default.

    Example::

        tracker = MLflowTracker("gnn-attack-paths", tracking_uri=settings.tracking_uri)
        with tracker.start_run(run_name="graphsage-train") as run_id:
            tracker.log_model_parameters(result.config.to_dict())
            tracker.log_training_metrics(metrics)
            tracker.log_pytorch_model(result)
            version = tracker.register_model(gate=evaluation_gate(metrics, {"auc_pr": 0.6}))
    """

    def __init__(self, experiment_name: str = DEFAULT_EXPERIMENT, tracking_uri: str | None = None,
                 artifact_location: str | Path | None = None) -> None:
        if tracking_uri is None:
            from gnn_neo4j.settings import load_settings

            tracking_uri = load_settings().tracking_uri
        self.experiment_name = _check_name(experiment_name, "experiment name")
        self.tracking_uri = tracking_uri
        db_path = _sqlite_path(tracking_uri)
        if db_path is not None:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        if artifact_location is None and db_path is not None:
            artifact_location = db_path.parent / "mlartifacts" / experiment_name
        self.artifact_location = str(artifact_location) if artifact_location is not None else None
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._experiment_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, experiment_name: str = DEFAULT_EXPERIMENT) -> "MLflowTracker":
        """A tracker on the settings' tracking URI (artifacts under ``<data_dir>/mlartifacts`` for SQLite)."""
        return cls(experiment_name, tracking_uri=settings.tracking_uri)

    def __repr__(self) -> str:
        return f"MLflowTracker({self.experiment_name!r}, tracking_uri={redact_url(self.tracking_uri)!r})"

    # -- experiment and runs ----------------------------------------------------------------------------------

    @property
    def experiment_id(self) -> str:
        """Id of the experiment, created (or restored from the trash) on first use."""
        if self._experiment_id is None:
            self._experiment_id = self._ensure_experiment()
        return self._experiment_id

    def _ensure_experiment(self) -> str:
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        if experiment is None:
            location = self.artifact_location
            if location is not None and "://" not in location:
                Path(location).mkdir(parents=True, exist_ok=True)
            try:
                experiment_id = self.client.create_experiment(self.experiment_name, artifact_location=location)
                log.info("created MLflow experiment %s (artifacts in %s)", self.experiment_name, location or "default")
                return experiment_id
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                experiment = self.client.get_experiment_by_name(self.experiment_name)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage == "deleted":
            self.client.restore_experiment(experiment.experiment_id)
            log.info("restored deleted MLflow experiment %s", self.experiment_name)
        if (self.artifact_location is not None and "://" not in self.artifact_location
                and not _same_location(experiment.artifact_location, self.artifact_location)):
            log.warning("MLflow experiment %s already exists with artifact location %s (expected %s); its "
                        "artifacts stay there", self.experiment_name, experiment.artifact_location,
                        self.artifact_location)
        return experiment.experiment_id

    @contextmanager
    def start_run(self, run_name: str | None = None, nested: bool = False,
                  tags: Mapping[str, Any] | None = None, *, run_id: str | None = None) -> Iterator[str]:
        """Open an MLflow run for the duration of a ``with`` block and make it the active run.

        Sets MLflow's process-wide tracking URI to this tracker's (MLflow exports it as ``$MLFLOW_TRACKING_URI``).
        The run ends ``FINISHED`` when the block completes, ``KILLED`` on ``KeyboardInterrupt`` and ``FAILED`` on
        any other exception (which propagates).

        Args:
            run_name: display name.
            nested: open the run as a child of the currently active run.
            tags: run tags (secret-looking ones are dropped, URLs masked).
            run_id: resume this existing run instead of creating one.

        Yields:
            The run id.
        """
        # MLflow's fluent runs (nesting, Optuna's callback) use the process-wide tracking URI; MLflow also mirrors
        # it into $MLFLOW_TRACKING_URI for child processes.
        mlflow.set_tracking_uri(self.tracking_uri)
        safe_tags = {k: str(v) for k, v in self._safe(tags or {}, "tag").items() if v is not None}
        if run_id is not None:
            active = mlflow.start_run(run_id=run_id, nested=nested)
            if safe_tags:
                self._log_batch(active.info.run_id, tags=safe_tags)
        else:
            active = mlflow.start_run(experiment_id=self.experiment_id, run_name=run_name, nested=nested,
                                      tags=safe_tags or None)
        current = active.info.run_id
        try:
            yield current
        except KeyboardInterrupt:
            mlflow.end_run("KILLED")
            raise
        except BaseException:
            mlflow.end_run("FAILED")
            raise
        else:
            mlflow.end_run("FINISHED")

    @contextmanager
    def study_run(self, study_name: str, tags: Mapping[str, Any] | None = None) -> Iterator[str]:
        """The parent run of an Optuna study: resumed if this study already has one, else created.

        A tuner that was killed and restarted, or a second worker joining the study, keeps logging into the same
        parent run. When another run is active the study run is nested under it.

        Args:
            study_name: the Optuna study name.
            tags: extra tags.

        Yields:
            The parent run id.
        """
        _check_name(study_name, "study name")
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`{TAG_RUN_KIND}` = 'study' and tags.`{TAG_STUDY_NAME}` = '{study_name}'",
            max_results=1, order_by=["attributes.start_time ASC"])
        nested = mlflow.active_run() is not None
        run_tags = {**(tags or {}), TAG_RUN_KIND: "study", TAG_STUDY_NAME: study_name}
        if found:
            log.info("resuming MLflow parent run %s of study %s", found[0].info.run_id, study_name)
            with self.start_run(run_id=found[0].info.run_id, nested=nested, tags=run_tags) as run_id:
                yield run_id
        else:
            with self.start_run(run_name=f"study-{study_name}", nested=nested, tags=run_tags) as run_id:
                yield run_id

    def _run_id(self, run_id: str | None) -> str:
        if run_id is not None:
            return run_id
        active = mlflow.active_run()
        if active is None:
            raise TrackingError("no active MLflow run: use `with tracker.start_run():` or pass run_id")
        return active.info.run_id

    # -- logging ----------------------------------------------------------------------------------------------

    def _safe(self, values: Mapping[str, Any], what: str) -> dict[str, Any]:
        """Drop secret-looking entries, mask URL credentials, stringify non-scalars."""
        safe: dict[str, Any] = {}
        for key, value in values.items():
            if looks_like_secret(key, value):
                log.warning("not logging %s %r to MLflow: it looks like a secret", what, key)
                continue
            if isinstance(value, str):
                value = redact_url(value) if "://" in value else value
            elif value is not None and not isinstance(value, (bool, numbers.Real)):
                value = json.dumps(value, default=str, sort_keys=True) if isinstance(value, (list, tuple, dict)) \
                    else str(value)
            safe[str(key)] = value
        return safe

    def _log_batch(self, run_id: str, params: Mapping[str, str] | None = None,
                   tags: Mapping[str, str] | None = None, metrics: Sequence[Metric] = ()) -> None:
        param_items = [Param(k, v) for k, v in (params or {}).items()]
        tag_items = [RunTag(k, v) for k, v in (tags or {}).items()]
        for start in range(0, len(param_items), _BATCH):
            self.client.log_batch(run_id, params=param_items[start:start + _BATCH])
        for start in range(0, len(tag_items), _BATCH):
            self.client.log_batch(run_id, tags=tag_items[start:start + _BATCH])
        metrics = list(metrics)
        for start in range(0, len(metrics), _METRIC_BATCH):
            self.client.log_batch(run_id, metrics=metrics[start:start + _METRIC_BATCH])

    def log_model_parameters(self, params: Mapping[str, Any] | Any, run_id: str | None = None) -> dict[str, str]:
        """Log hyperparameters (or any settings) as run parameters.

        Nested mappings are flattened with dotted keys; a dataclass or an object with ``to_dict()`` (such as
        `gnn_neo4j.training.TrainConfig`) is accepted. Entries whose key contains ``password``, ``secret``,
        ``token`` or ``key``, or whose value is a `Secret`, are dropped with a warning; credentials inside URL
        values are masked. ``None`` values are skipped.

        Args:
            params: what to log.
            run_id: target run; default the active run.

        Returns:
            The parameters actually logged (as strings).

        Raises:
            TrackingError: no run.
        """
        if hasattr(params, "to_dict"):
            params = params.to_dict()
        elif is_dataclass(params) and not isinstance(params, type):
            params = asdict(params)
        flat = _flatten(params)
        safe = {k: v for k, v in self._safe(flat, "parameter").items() if v is not None}
        logged: dict[str, str] = {}
        for key, value in safe.items():
            text = str(value)
            if len(text) > 6000:
                log.debug("truncating parameter %s to MLflow's 6000 characters", key)
                text = text[:5997] + "..."
            logged[key] = text
        self._log_batch(self._run_id(run_id), params=logged)
        return logged

    def log_training_metrics(self, metrics: Mapping[str, Any], step: int | None = None,
                             run_id: str | None = None) -> dict[str, float]:
        """Log numeric metrics (the seed's names: ``accuracy``, ``f1``, ``auc_pr``, ``latency_ms`` ...).

        Values that are not finite numbers (None, NaN, strings, booleans) are skipped with a debug log.

        Args:
            metrics: name -> value.
            step: step (e.g. epoch); default 0.
            run_id: target run; default the active run.

        Returns:
            The metrics actually logged.

        Raises:
            TrackingError: no run.
        """
        run = self._run_id(run_id)
        now = int(time.time() * 1000)
        logged: dict[str, float] = {}
        for key, value in metrics.items():
            number = _number(value)
            if number is None:
                log.debug("not logging metric %s=%r: not a finite number", key, value)
                continue
            logged[str(key)] = number
        self._log_batch(run, metrics=[Metric(k, v, now, step or 0) for k, v in logged.items()])
        return logged

    def log_metric_history(self, rows: Sequence[Mapping[str, Any]], step_key: str = "epoch",
                           run_id: str | None = None) -> int:
        """Log a curve (e.g. `TrainResult.history`): every numeric column of every row at ``step = row[step_key]``.

        Args:
            rows: one mapping per step.
            step_key: the column holding the step; it is not logged itself.
            run_id: target run; default the active run.

        Returns:
            Number of metric values logged.
        """
        run = self._run_id(run_id)
        now = int(time.time() * 1000)
        batch: list[Metric] = []
        for index, row in enumerate(rows):
            step = int(row.get(step_key, index))
            for key, value in row.items():
                number = _number(value)
                if key != step_key and number is not None:
                    batch.append(Metric(str(key), number, now, step))
        self._log_batch(run, metrics=batch)
        return len(batch)

    def set_tags(self, tags: Mapping[str, Any], run_id: str | None = None) -> dict[str, str]:
        """Set run tags (secret-looking ones dropped, URLs masked). Returns what was set."""
        safe = {k: str(v) for k, v in self._safe(tags, "tag").items() if v is not None}
        self._log_batch(self._run_id(run_id), tags=safe)
        return safe

    def log_pytorch_model(self, result_or_directory: training.TrainResult | str | Path,
                          artifact_path: str = MODEL_ARTIFACT_PATH, run_id: str | None = None) -> str:
        """Log a trained model as artifacts: the `training.save_model` directory (tensors + ``config.json``).

        No pickled ``mlflow.pytorch`` model is written; `load_model` restores it with ``weights_only=True``.

        Args:
            result_or_directory: a `TrainResult` (saved to a temporary directory first) or a directory written
                by `training.save_model`.
            artifact_path: artifact sub-path of the run.
            run_id: target run; default the active run.

        Returns:
            The model's URI, ``runs:/<run_id>/<artifact_path>``.

        Raises:
            TrackingError: no run, or the directory is not a saved gnn-neo4j model.
        """
        run = self._run_id(run_id)
        if isinstance(result_or_directory, training.TrainResult):
            with tempfile.TemporaryDirectory(prefix="gnn-model-") as tmp:
                directory = training.save_model(result_or_directory, Path(tmp) / "model")
                self._log_model_directory(run, directory, artifact_path)
        else:
            self._log_model_directory(run, Path(result_or_directory), artifact_path)
        return f"runs:/{run}/{artifact_path}"

    def _log_model_directory(self, run_id: str, directory: Path, artifact_path: str) -> None:
        config_file = directory / training.CONFIG_FILE
        if not config_file.is_file():
            raise TrackingError(f"{directory} is not a saved model: {training.CONFIG_FILE} is missing")
        try:
            document = json.loads(config_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrackingError(f"{config_file}: unreadable model config: {exc}") from exc
        if document.get("format") != training.MODEL_FORMAT:
            raise TrackingError(f"{config_file} is not a {training.MODEL_FORMAT} config")
        weights = directory / str(document.get("weights", training.WEIGHTS_FILE))
        if not weights.is_file():
            raise TrackingError(f"{directory}: weights file {weights.name} is missing")
        self.client.log_artifacts(run_id, str(directory), artifact_path)
        log.info("logged %s model to run %s as %s", document.get("model_type"), run_id, artifact_path)

    def log_model_artifacts(self, files: Mapping[str, str | Path], run_id: str | None = None) -> dict[str, str]:
        """Log extra files (plots, reports, architecture text ...) under ``<name>/<file name>``.

        Args:
            files: artifact name -> local file or directory.
            run_id: target run; default the active run.

        Returns:
            name -> artifact URI.

        Raises:
            FileNotFoundError: a path does not exist (nothing is logged then).
            TrackingError: no run or an invalid name.
        """
        run = self._run_id(run_id)
        paths = {}
        for name, path in files.items():
            _check_name(name, "artifact name")
            path = Path(path)
            if not path.exists():
                raise FileNotFoundError(f"artifact {name}: {path} does not exist")
            paths[name] = path
        uris = {}
        for name, path in paths.items():
            if path.is_dir():
                self.client.log_artifacts(run, str(path), name)
                uris[name] = f"runs:/{run}/{name}"
            else:
                self.client.log_artifact(run, str(path), name)
                uris[name] = f"runs:/{run}/{name}/{path.name}"
        return uris

    def find_trial_run(self, parent_run_id: str, trial_number: int) -> str | None:
        """The nested run `optuna_callback` wrote for one trial of the study under ``parent_run_id``."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(f"tags.mlflow.parentRunId = '{parent_run_id}' and "
                           f"tags.`{TRIAL_NUMBER_TAG}` = '{int(trial_number)}'"),
            max_results=1)
        return runs[0].info.run_id if runs else None

    def optuna_callback(self, metric_name: str = "value") -> Any:
        """Optuna's MLflow callback, writing one nested run per trial under the active (study) run.

        The callback logs the trial's sampled parameters, its objective value as ``metric_name``, the trial state
        and the parameter distributions as tags, and the trial's user attributes as tags. It must be used while a
        run is active (`study_run`), so the trial runs nest under it.

        Args:
            metric_name: name of the objective metric in MLflow.

        Returns:
            An ``optuna_integration.MLflowCallback``.
        """
        from optuna_integration import MLflowCallback

        with warnings.catch_warnings():
            # optuna-integration 5 announces that MLflowCallback moves to OptunaHub by v6 (setup.cfg pins <6); it is
            # the supported MLflow integration until then, and the warning is not actionable for our users.
            warnings.filterwarnings("ignore", message=r"MLflowCallback has been deprecated", category=FutureWarning)
            return MLflowCallback(
                tracking_uri=self.tracking_uri,
                metric_name=metric_name,
                create_experiment=False,
                mlflow_kwargs={"experiment_id": self.experiment_id, "nested": True,
                               "tags": {TAG_RUN_KIND: "trial"}},
                tag_study_user_attrs=False,
                tag_trial_user_attrs=True,
            )

    # -- registry ---------------------------------------------------------------------------------------------

    def register_model(self, model_name: str = DEFAULT_MODEL_NAME, run_id: str | None = None,
                       artifact_path: str = MODEL_ARTIFACT_PATH, description: str | None = None,
                       tags: Mapping[str, Any] | None = None, alias: str | None = CHALLENGER, *,
                       gate: GateResult | bool) -> int:
        """Register a logged model as a new version, only if it passed evaluation.

        Args:
            model_name: registered model name.
            run_id: the run that logged the model (`log_pytorch_model`); default the active run.
            artifact_path: where in that run the model directory lies.
            description: version description.
            tags: version tags (secret-looking ones dropped).
            alias: alias to point at the new version (``challenger``; None for none).
            gate: the evaluation gate's result (`evaluation_gate`) or an explicit bool.

        Returns:
            The new version number.

        Raises:
            RegistrationRefused: the gate did not pass.
            TrackingError: no run, invalid name, or no saved model under ``artifact_path`` in the run.
        """
        _check_name(model_name, "model name")
        if not gate:
            reasons = "; ".join(gate.failures) if isinstance(gate, GateResult) and gate.failures else "gate failed"
            raise RegistrationRefused(f"not registering {model_name}: the model did not pass evaluation ({reasons})")
        run = self.client.get_run(self._run_id(run_id))
        listed = {Path(info.path).name for info in self.client.list_artifacts(run.info.run_id, artifact_path)}
        if training.CONFIG_FILE not in listed:
            raise TrackingError(f"run {run.info.run_id} has no saved model under {artifact_path!r} "
                                "(log it with log_pytorch_model first)")
        try:
            self.client.create_registered_model(model_name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        version_tags = {k: str(v) for k, v in self._safe(tags or {}, "tag").items() if v is not None}
        version_tags[TAG_GATE] = "passed"
        if isinstance(gate, GateResult) and gate.metrics:
            version_tags["gnn.gate_metrics"] = json.dumps(dict(gate.metrics), sort_keys=True)
        model_version = self.client.create_model_version(
            model_name, source=f"{run.info.artifact_uri.rstrip('/')}/{artifact_path}", run_id=run.info.run_id,
            description=description, tags=version_tags)
        version = int(model_version.version)
        log.info("registered %s version %d from run %s", model_name, version, run.info.run_id)
        if alias:
            self.set_alias(model_name, alias, version)
        return version

    def set_alias(self, model_name: str, alias: str, version: int | str) -> None:
        """Point ``models:/<model_name>@<alias>`` at a version.

        Raises:
            TrackingError: invalid alias, or unknown model/version.
        """
        if not _ALIAS.match(alias) or alias == "latest" or re.fullmatch(r"v\d+", alias):
            raise TrackingError(f"invalid alias {alias!r}")
        self._version(model_name, version)
        self.client.set_registered_model_alias(model_name, alias, str(version))
        log.info("%s@%s -> version %s", model_name, alias, version)

    def _version(self, model_name: str, version: int | str) -> Any:
        _check_name(model_name, "model name")
        try:
            return self.client.get_model_version(model_name, str(version))
        except MlflowException as exc:
            raise TrackingError(f"{model_name} has no version {version}") from exc

    def alias_version(self, model_name: str, alias: str) -> int | None:
        """The version an alias points at, or None when the alias (or the model) does not exist."""
        _check_name(model_name, "model name")
        try:
            return int(self.client.get_model_version_by_alias(model_name, alias).version)
        except MlflowException as exc:
            if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
                return None
            raise

    def promote(self, model_name: str = DEFAULT_MODEL_NAME, version: int | str | None = None) -> dict[str, Any]:
        """Make a version the ``champion``, remembering the previous champion for `rollback`.

        Args:
            model_name: registered model name.
            version: version to promote; default the current ``challenger``.

        Returns:
            ``{"model_name", "version", "previous"}`` (previous champion version or None).

        Raises:
            TrackingError: no such version, or no challenger when ``version`` is None.
        """
        if version is None:
            version = self.alias_version(model_name, CHALLENGER)
            if version is None:
                raise TrackingError(f"{model_name} has no {CHALLENGER}; register a model or pass a version")
        model_version = self._version(model_name, version)
        version = int(model_version.version)
        previous = self.alias_version(model_name, CHAMPION)
        if previous == version:
            log.info("%s version %d is already the champion", model_name, version)
            return {"model_name": model_name, "version": version, "previous": None}
        if previous is not None:
            self.client.set_model_version_tag(model_name, str(version), TAG_PREVIOUS_CHAMPION, str(previous))
        elif TAG_PREVIOUS_CHAMPION in (model_version.tags or {}):
            self.client.delete_model_version_tag(model_name, str(version), TAG_PREVIOUS_CHAMPION)
        self.client.set_model_version_tag(model_name, str(version), TAG_PROMOTED_AT, _iso(int(time.time() * 1000)))
        self.set_alias(model_name, CHAMPION, version)
        if self.alias_version(model_name, CHALLENGER) == version:
            self.client.delete_registered_model_alias(model_name, CHALLENGER)
        log.info("promoted %s version %d to champion (previous: %s)", model_name, version, previous)
        return {"model_name": model_name, "version": version, "previous": previous}

    def rollback(self, model_name: str = DEFAULT_MODEL_NAME) -> dict[str, Any]:
        """Give the ``champion`` alias back to the version that held it before the last promotion.

        Returns:
            ``{"model_name", "version"}`` (the restored champion) and ``"rolled_back"`` (the version demoted).

        Raises:
            TrackingError: no champion, or no previous champion recorded.
        """
        current = self.alias_version(model_name, CHAMPION)
        if current is None:
            raise TrackingError(f"{model_name} has no {CHAMPION} to roll back")
        previous = (self._version(model_name, current).tags or {}).get(TAG_PREVIOUS_CHAMPION)
        if not previous:
            raise TrackingError(f"{model_name} version {current} has no previous champion to roll back to")
        self._version(model_name, previous)
        self.set_alias(model_name, CHAMPION, previous)
        self.client.set_model_version_tag(model_name, str(current), TAG_ROLLED_BACK_AT,
                                          _iso(int(time.time() * 1000)))
        log.info("rolled %s back from version %s to %s", model_name, current, previous)
        return {"model_name": model_name, "version": int(previous), "rolled_back": current}

    def load_model(self, model_name: str = DEFAULT_MODEL_NAME,
                   alias: str = CHAMPION) -> tuple[training.TrainResult, int]:
        """Load ``models:/<model_name>@<alias>`` (weights with ``weights_only=True``).

        Args:
            model_name: registered model name.
            alias: alias to resolve (``champion`` for scoring).

        Returns:
            ``(result, version)``: the model and the version the alias pointed at (stamp it onto scores).

        Raises:
            TrackingError: unknown model or alias.
        """
        version = self.alias_version(model_name, alias)
        if version is None:
            raise TrackingError(f"no model {model_name}@{alias} in the registry at {redact_url(self.tracking_uri)}")
        # Download the resolved version's own source (not models:/ again, which would go through MLflow's
        # process-wide registry URI), so neither another registry nor a concurrent alias move can interfere.
        source = self.client.get_model_version_download_uri(model_name, str(version))
        with tempfile.TemporaryDirectory(prefix="gnn-model-") as tmp, _no_download_progress():
            local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=tmp,
                                                        tracking_uri=self.tracking_uri)
            result = training.load_model(local)
        log.info("loaded %s@%s (version %d)", model_name, alias, version)
        return result, version

    def list_versions(self, model_name: str = DEFAULT_MODEL_NAME) -> list[dict[str, Any]]:
        """Every version of a registered model, newest first.

        Returns:
            One dict per version: ``version``, ``aliases``, ``run_id``, ``metrics`` (the run's latest metrics),
            ``created`` (ISO UTC), ``status``, ``description``, ``tags``. Empty when the model is not registered.
        """
        _check_name(model_name, "model name")
        try:
            registered = self.client.get_registered_model(model_name)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return []
            raise
        aliases: dict[int, list[str]] = {}
        for alias, version in (registered.aliases or {}).items():
            aliases.setdefault(int(version), []).append(alias)
        rows = []
        for mv in self.client.search_model_versions(f"name = '{model_name}'"):
            rows.append({
                "version": int(mv.version),
                "aliases": sorted(aliases.get(int(mv.version), [])),
                "run_id": mv.run_id,
                "metrics": self._run_metrics(mv.run_id),
                "created": _iso(mv.creation_timestamp),
                "status": mv.status,
                "description": mv.description or "",
                "tags": dict(mv.tags or {}),
            })
        return sorted(rows, key=lambda row: row["version"], reverse=True)

    def _run_metrics(self, run_id: str | None) -> dict[str, float]:
        if not run_id:
            return {}
        try:
            return dict(self.client.get_run(run_id).data.metrics)
        except MlflowException:
            return {}

    def compare_versions(self, model_name: str, version_a: int | str, version_b: int | str,
                         log_comparison: bool = False) -> dict[str, Any]:
        """A/B comparison of two registered versions by the metrics their runs logged.

        Args:
            model_name: registered model name.
            version_a: baseline version (A).
            version_b: candidate version (B).
            log_comparison: also record the comparison as its own run (``model_a_<m>``, ``model_b_<m>``,
                ``improvement_<m>``), as the seed's A/B helper does.

        Returns:
            ``{"model_name", "version_a", "version_b", "metrics": {name: {"a", "b", "difference",
            "better"}}}`` over the metrics both runs have; ``difference = b - a``; ``better`` is ``"a"``, ``"b"``,
            ``"same"``, or None for metrics without a direction (counts); losses, times and latency are
            lower-is-better, classification, correlation and ranking metrics higher-is-better.

        Raises:
            TrackingError: unknown model or version.
        """
        mv_a, mv_b = self._version(model_name, version_a), self._version(model_name, version_b)
        metrics_a, metrics_b = self._run_metrics(mv_a.run_id), self._run_metrics(mv_b.run_id)
        table: dict[str, dict[str, Any]] = {}
        for name in sorted(set(metrics_a) & set(metrics_b)):
            a, b = metrics_a[name], metrics_b[name]
            difference = b - a
            if _LOWER_IS_BETTER.search(name):
                better: str | None = "same" if difference == 0 else ("b" if difference < 0 else "a")
            elif _HIGHER_IS_BETTER.search(name):
                better = "same" if difference == 0 else ("b" if difference > 0 else "a")
            else:
                better = None
            table[name] = {"a": a, "b": b, "difference": difference, "better": better}
        result = {"model_name": model_name, "version_a": int(mv_a.version), "version_b": int(mv_b.version),
                  "metrics": table}
        if log_comparison:
            with self.start_run(run_name=f"ab-{model_name}-v{mv_a.version}-v{mv_b.version}",
                                nested=mlflow.active_run() is not None,
                                tags={TAG_RUN_KIND: "ab_test", "gnn.model_name": model_name,
                                      "gnn.version_a": mv_a.version, "gnn.version_b": mv_b.version}) as run_id:
                values: dict[str, float] = {}
                for name, row in table.items():
                    values[f"model_a_{name}"] = row["a"]
                    values[f"model_b_{name}"] = row["b"]
                    values[f"improvement_{name}"] = row["difference"]
                self.log_training_metrics(values, run_id=run_id)
                result["run_id"] = run_id
        return result


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _same_location(actual: str | None, expected: str) -> bool:
    if not actual:
        return False
    if actual.startswith("file://"):
        actual = urlsplit(actual).path
    try:
        return Path(actual).resolve() == Path(expected).resolve()
    except (OSError, ValueError):
        return False
