"""MLflowTracker against a real MLflow (SQLite store + local artifacts in tmp_path) and real trained models."""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from gnn_neo4j import training
from gnn_neo4j.dataset import from_property_graph
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.settings import Secret, Settings
from gnn_neo4j.synthetic import SyntheticDataGenerator
from gnn_neo4j.tracking import (
    CHALLENGER,
    CHAMPION,
    MLflowTracker,
    RegistrationRefused,
    TrackingError,
    evaluation_gate,
    redact_url,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread", "restore_mlflow_globals")


@pytest.fixture(scope="module")
def empty_mlflow_db(tmp_path_factory) -> Path:
    """An MLflow SQLite database with its schema migrated once; tests get a copy (migrations take seconds)."""
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def data_dir(tmp_path, empty_mlflow_db) -> Path:
    shutil.copy(empty_mlflow_db, tmp_path / "mlflow.db")
    return tmp_path


@pytest.fixture
def tracker(data_dir) -> MLflowTracker:
    return MLflowTracker("unit-tests", tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}")


@pytest.fixture(scope="module")
def graphs():
    mapping = load_mapping("canonical")
    envs = [SyntheticDataGenerator(seed=s, assets=120).generate_all() for s in (11, 12, 13)]
    return mapping, [from_property_graph(env.graph, mapping) for env in envs]


@pytest.fixture(scope="module")
def models(graphs):
    """Two different trained models (seeds 0 and 1) and the graph to compare their predictions on."""
    mapping, (train, val, test) = graphs
    results = [training.fit(train, val, training.TrainConfig(epochs=3, patience=5, risk_trials=32, seed=seed),
                            mapping=mapping) for seed in (0, 1)]
    return results, test


def _log_trained_model(tracker: MLflowTracker, result: training.TrainResult, name: str) -> str:
    with tracker.start_run(run_name=name) as run_id:
        tracker.log_model_parameters(result.config)
        tracker.log_training_metrics({k: v for k, v in result.metrics.items()})
        tracker.log_training_metrics({"training_seconds": result.training_seconds, "latency_ms": 2.0})
        tracker.log_pytorch_model(result)
    return run_id


def test_sqlite_experiment_keeps_artifacts_under_the_data_dir(tracker, data_dir):
    experiment = tracker.client.get_experiment(tracker.experiment_id)
    assert Path(experiment.artifact_location) == data_dir / "mlartifacts" / "unit-tests"
    with tracker.start_run(run_name="where") as run_id:
        pass
    run = tracker.client.get_run(run_id)
    assert Path(run.info.artifact_uri).is_relative_to(data_dir / "mlartifacts")
    assert run.info.status == "FINISHED"
    # A second tracker on the same store finds the same experiment instead of creating another.
    again = MLflowTracker("unit-tests", tracking_uri=tracker.tracking_uri)
    assert again.experiment_id == tracker.experiment_id


def test_params_and_metrics_read_back_and_no_secret_reaches_mlflow(tracker, caplog):
    config = training.TrainConfig(hidden_dim=128, num_layers=3, dropout=0.2, batch_size=64)
    caplog.set_level(logging.DEBUG, logger="gnn_neo4j.tracking")
    with tracker.start_run(run_name="params", tags={"team": "blue", "db_password": "hunter2"}) as run_id:
        logged = tracker.log_model_parameters({
            **config.to_dict(),
            "neo4j_password": "hunter2",
            "api_token": "tok-123",
            "aws_access_key": "AKIA-XYZ",
            "credentials": Secret("hunter2"),
            "optuna_storage": "postgresql://tuner:hunter2@db.internal:5432/optuna",
            "nested": {"client_secret": "s3cr3t", "width": 3},
        })
        tracker.log_training_metrics({"auc_pr": 0.71, "f1": 0.5, "latency_ms": 12, "nan_metric": math.nan,
                                      "none_metric": None, "model": "graphsage", "flag": True}, step=4)
        tracker.log_training_metrics({"auc_pr": 0.74}, step=5)

    run = MlflowClient(tracking_uri=tracker.tracking_uri).get_run(run_id)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["hidden_dim"] == "128" and params["num_layers"] == "3" and params["batch_size"] == "64"
    assert params["dropout"] == "0.2" and params["model_type"] == "graphsage"
    assert params["nested.width"] == "3"
    assert params["optuna_storage"] == "postgresql://tuner:***@db.internal:5432/optuna"
    assert logged == params
    for key in ("neo4j_password", "api_token", "aws_access_key", "credentials", "nested.client_secret"):
        assert key not in params
    assert "db_password" not in tags and tags["team"] == "blue"
    everything = json.dumps([params, tags])
    for secret in ("hunter2", "tok-123", "AKIA-XYZ", "s3cr3t"):
        assert secret not in everything
        assert secret not in caplog.text
    assert metrics == {"auc_pr": 0.74, "f1": 0.5, "latency_ms": 12.0}
    history = MlflowClient(tracking_uri=tracker.tracking_uri).get_metric_history(run_id, "auc_pr")
    assert [(m.step, m.value) for m in history] == [(4, 0.71), (5, 0.74)]


def test_logging_needs_a_run(tracker):
    with pytest.raises(TrackingError, match="no active MLflow run"):
        tracker.log_training_metrics({"auc_pr": 0.5})


def test_failed_block_marks_the_run_failed(tracker):
    with pytest.raises(RuntimeError, match="boom"):
        with tracker.start_run(run_name="fails") as run_id:
            raise RuntimeError("boom")
    assert tracker.client.get_run(run_id).info.status == "FAILED"
    assert mlflow.active_run() is None


def test_model_is_logged_as_tensors_and_config_not_as_a_pickle(tracker, models, tmp_path):
    (result, _), _ = models
    run_id = _log_trained_model(tracker, result, "artifacts")
    names = {Path(a.path).name for a in tracker.client.list_artifacts(run_id, "model")}
    assert training.CONFIG_FILE in names
    assert names & {training.WEIGHTS_FILE, training.SAFETENSORS_FILE}
    assert not names & {"MLmodel", "data", "python_model.pkl"}

    report = tmp_path / "architecture.txt"
    report.write_text(str(result.model), encoding="utf-8")
    with tracker.start_run(run_id=run_id):
        uris = tracker.log_model_artifacts({"model_architecture": report})
        with pytest.raises(FileNotFoundError):
            tracker.log_model_artifacts({"missing": tmp_path / "nope.png"})
        not_a_model = tmp_path / "not-a-model"
        not_a_model.mkdir()
        with pytest.raises(TrackingError, match="config.json"):
            tracker.log_pytorch_model(not_a_model, artifact_path="other")
    assert uris == {"model_architecture": f"runs:/{run_id}/model_architecture/architecture.txt"}
    assert [Path(a.path).name for a in tracker.client.list_artifacts(run_id, "model_architecture")] == \
        ["architecture.txt"]


def test_registration_is_refused_unless_the_model_passed_evaluation(tracker, models):
    (result, _), _ = models
    run_id = _log_trained_model(tracker, result, "gate")
    failing = evaluation_gate({"val_auc_pr": result.metrics["val_auc_pr"], "latency_ms": 2.0},
                              minimums={"val_auc_pr": 1.01}, maximums={"latency_ms": 1000})
    assert not failing.passed and failing.failures[0].startswith("val_auc_pr")
    with pytest.raises(RegistrationRefused, match="val_auc_pr"):
        tracker.register_model("gated_scorer", run_id=run_id, gate=failing)
    with pytest.raises(RegistrationRefused):
        tracker.register_model("gated_scorer", run_id=run_id, gate=False)
    assert not evaluation_gate({"auc_pr": 0.9}).passed  # no conditions: nothing was checked, nothing passes
    assert not evaluation_gate({"auc_pr": math.nan}, minimums={"auc_pr": 0.1}).passed
    assert tracker.list_versions("gated_scorer") == []

    passing = evaluation_gate({"val_auc_pr": result.metrics["val_auc_pr"]}, minimums={"val_auc_pr": 0.0})
    version = tracker.register_model("gated_scorer", run_id=run_id, gate=passing, description="ok",
                                     tags={"environment": "test", "deploy_token": "tok-9"})
    assert version == 1
    mv = tracker.client.get_model_version("gated_scorer", "1")
    assert mv.tags["gnn.gate"] == "passed" and mv.tags["environment"] == "test"
    assert "deploy_token" not in mv.tags
    assert tracker.alias_version("gated_scorer", CHALLENGER) == 1


def test_alias_promote_rollback_round_trip_and_champion_predictions(tracker, models, tmp_path):
    (first, second), test_graph = models
    gate = evaluation_gate({"ok": 1.0}, minimums={"ok": 1.0})
    run_1 = _log_trained_model(tracker, first, "v1")
    run_2 = _log_trained_model(tracker, second, "v2")
    assert tracker.register_model(run_id=run_1, gate=gate) == 1
    assert tracker.promote() == {"model_name": "attack_path_scorer", "version": 1, "previous": None}
    assert tracker.alias_version("attack_path_scorer", CHALLENGER) is None  # the challenger became champion
    assert tracker.register_model(run_id=run_2, gate=gate) == 2
    assert tracker.alias_version("attack_path_scorer", CHALLENGER) == 2

    assert tracker.promote() == {"model_name": "attack_path_scorer", "version": 2, "previous": 1}
    # Loading must use the tracker's registry, not whatever MLflow's process-wide URI points at.
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'some-other-registry.db'}")
    loaded, version = tracker.load_model()
    assert version == 2
    expected_2 = training.score_graph(second.model, second.spec, test_graph)
    expected_1 = training.score_graph(first.model, first.spec, test_graph)
    assert not np.array_equal(expected_1[0], expected_2[0])
    got = training.score_graph(loaded.model, loaded.spec, test_graph)
    assert np.array_equal(got[0], expected_2[0]) and np.array_equal(got[1], expected_2[1])

    versions = tracker.list_versions()
    assert [(v["version"], v["aliases"], v["run_id"]) for v in versions] == [(2, [CHAMPION], run_2), (1, [], run_1)]
    assert versions[0]["metrics"]["latency_ms"] == 2.0 and "val_auc_pr" in versions[0]["metrics"]
    assert versions[0]["created"].endswith("+00:00")

    assert tracker.rollback() == {"model_name": "attack_path_scorer", "version": 1, "rolled_back": 2}
    loaded, version = tracker.load_model("attack_path_scorer", CHAMPION)
    assert version == 1
    assert np.array_equal(training.score_graph(loaded.model, loaded.spec, test_graph)[0], expected_1[0])
    with pytest.raises(TrackingError, match="no previous champion"):
        tracker.rollback()
    with pytest.raises(TrackingError, match="no model"):
        tracker.load_model("attack_path_scorer", "staging")


def test_study_run_is_resumed_for_the_same_study(tracker):
    with tracker.study_run("study-a") as first:
        pass
    with tracker.study_run("study-a") as again:
        pass
    with tracker.study_run("study-b") as other:
        pass
    assert first == again != other
    assert tracker.client.get_run(first).data.tags["gnn.study_name"] == "study-a"


def test_models_cli_list_promote_rollback_compare(data_dir, models):
    from gnn_neo4j.cli.models import models as models_cli

    (first, second), _ = models
    settings = Settings(data_dir=data_dir)
    tracker = MLflowTracker.from_settings(settings)
    gate = evaluation_gate({"ok": 1.0}, minimums={"ok": 1.0})
    for result, name in ((first, "a"), (second, "b")):
        tracker.register_model(run_id=_log_trained_model(tracker, result, name), gate=gate)
    cli = CliRunner()

    listed = cli.invoke(models_cli, ["list", "--json"], obj=settings)
    assert listed.exit_code == 0, listed.output
    assert [(row["version"], row["aliases"]) for row in json.loads(listed.output)] == [(2, [CHALLENGER]), (1, [])]

    assert cli.invoke(models_cli, ["promote", "--version", "1"], obj=settings).exit_code == 0
    promoted = cli.invoke(models_cli, ["promote", "--json"], obj=settings)
    assert json.loads(promoted.output) == {"model_name": "attack_path_scorer", "version": 2, "previous": 1}
    text = cli.invoke(models_cli, ["list"], obj=settings)
    assert text.exit_code == 0 and "champion" in text.output.splitlines()[1]

    rolled = cli.invoke(models_cli, ["rollback", "--json"], obj=settings)
    assert json.loads(rolled.output) == {"model_name": "attack_path_scorer", "version": 1, "rolled_back": 2}

    compared = cli.invoke(models_cli, ["compare", "1", "2", "--json", "--log"], obj=settings)
    assert compared.exit_code == 0, compared.output
    report = json.loads(compared.output)
    row = report["metrics"]["val_auc_pr"]
    assert row["a"] == pytest.approx(first.metrics["val_auc_pr"])
    assert row["b"] == pytest.approx(second.metrics["val_auc_pr"])
    assert row["difference"] == pytest.approx(row["b"] - row["a"])
    assert row["better"] == ("same" if row["a"] == row["b"] else ("b" if row["b"] > row["a"] else "a"))
    assert report["metrics"]["latency_ms"]["better"] == "same"
    ab_run = tracker.client.get_run(report["run_id"])
    assert ab_run.data.metrics["improvement_val_auc_pr"] == pytest.approx(row["difference"])
    table = cli.invoke(models_cli, ["compare", "1", "2"], obj=settings)
    assert table.exit_code == 0 and "val_auc_pr" in table.output and "B - A" in table.output

    missing = cli.invoke(models_cli, ["compare", "1", "9"], obj=settings)
    assert isinstance(missing.exception, TrackingError)


def test_redact_url():
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("http://mlflow.internal:5000") == "http://mlflow.internal:5000"
    assert redact_url("sqlite:////tmp/x/mlflow.db") == "sqlite:////tmp/x/mlflow.db"
