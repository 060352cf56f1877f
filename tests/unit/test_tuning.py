"""GNNHyperparameterOptimizer against real Optuna (SQLite RDB storage in tmp_path) and real MLflow, on small graphs."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pytest
import torch
from click.testing import CliRunner
from mlflow import MlflowClient

from gnn_neo4j.dataset import from_property_graph
from gnn_neo4j.errors import GnnError
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.settings import Settings
from gnn_neo4j.synthetic import SyntheticDataGenerator
from gnn_neo4j.tracking import MLflowTracker
from gnn_neo4j.tuning import (
    MLFLOW_OBJECTIVE_METRIC,
    GNNHyperparameterOptimizer,
    TuningError,
    search_space,
    train_config,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread", "restore_mlflow_globals")

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS = (21, 22, 23)
# The seed document's search spaces, restated here so the test checks the code against the seed, not itself.
SEED_SPACE = {
    "hidden_dim": {32, 64, 128, 256},
    "num_layers": {2, 3, 4, 5},
    "num_heads": {2, 4, 8},
    "dropout": {0.1, 0.2, 0.3, 0.4, 0.5},
    "learning_rate": {1e-4, 1e-3, 1e-2},
    "weight_decay": {1e-5, 1e-4, 1e-3},
    "batch_size": {32, 64, 128, 256},
    "epochs": {50, 100, 150, 200},
    "patience": {10, 20, 30, 50},
}
GRAPHSAGE_PARAMS = set(SEED_SPACE) - {"num_heads"}
FAST = {"risk_trials": 32}  # fewer Monte Carlo trials for the node-risk head: not a searched hyperparameter


@pytest.fixture(scope="module")
def environments():
    return [SyntheticDataGenerator(seed=s, assets=120).generate_all() for s in SEEDS]


@pytest.fixture(scope="module")
def graphs(environments):
    mapping = load_mapping("canonical")
    return mapping, [from_property_graph(env.graph, mapping) for env in environments]


@pytest.fixture(scope="module")
def empty_mlflow_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def tracker(tmp_path, empty_mlflow_db) -> MLflowTracker:
    shutil.copy(empty_mlflow_db, tmp_path / "mlflow.db")
    return MLflowTracker("tuning-tests", tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def storage(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'optuna.db'}"


@pytest.mark.parametrize("model_type", ["graphsage", "gat"])
def test_search_space_is_the_seed_space(model_type):
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3))
    seen: dict[str, set] = {}
    expected = set(SEED_SPACE) if model_type == "gat" else GRAPHSAGE_PARAMS
    for _ in range(300):
        trial = study.ask()
        params = search_space(trial, model_type)
        assert set(params) == expected == set(trial.params)
        for name, value in params.items():
            assert value in SEED_SPACE[name], (name, value)
            seen.setdefault(name, set()).add(value)
        if model_type == "gat":
            assert params["hidden_dim"] % params["num_heads"] == 0
        config = train_config(params, model_type, max_epochs=7, fixed=FAST)
        assert config.epochs == min(params["epochs"], 7)
        assert config.batch_size == params["batch_size"]  # mini-batch training is really used
        assert {name: getattr(config, name) for name in expected - {"epochs"}} == \
            {name: params[name] for name in expected - {"epochs"}}
        study.tell(trial, 0.0)
    assert seen == {name: SEED_SPACE[name] for name in expected}  # every value of every set is reachable
    with pytest.raises(TuningError, match="searched"):
        train_config(params, model_type, fixed={"hidden_dim": 8})
    with pytest.raises(TuningError, match="unknown model type"):
        search_space(study.ask(), "gcn")


def test_optimize_tracks_a_parent_run_with_nested_trial_runs(graphs, environments, storage, tracker):
    mapping, (train, val, test) = graphs
    optimizer = GNNHyperparameterOptimizer("gat", storage=storage, study_name="tracked", tracker=tracker, fixed=FAST)
    result = optimizer.optimize(train, val, test, n_trials=3, max_epochs=3, mapping=mapping,
                                test_ground_truth=environments[2].ground_truth)
    trials = optimizer.trials()
    optimizer.close()

    assert result["n_trials"] == result["n_complete"] == result["n_run"] == 3
    assert result["study_name"] == "tracked" and result["storage"] == storage
    assert set(result["best_params"]) == set(SEED_SPACE)
    assert all(value in SEED_SPACE[name] for name, value in result["best_params"].items())
    best = max((t for t in trials if t["state"] == "COMPLETE"), key=lambda t: t["value"])
    assert (result["best_trial"], result["best_score"]) == (best["number"], best["value"])
    assert 0.0 < result["best_score"] <= 1.0
    assert result["best_config"]["epochs"] == 3 and result["best_config"]["batch_size"] == best["params"]["batch_size"]
    assert optimizer.best_result is not None and optimizer.best_result.mini_batch
    assert optimizer.best_result.metrics["val_auc_pr"] == result["best_score"]
    for trial in trials:
        assert set(trial["params"]) == set(SEED_SPACE)
        assert trial["user_attrs"] == {"effective_epochs": 3, "max_epochs": 3}
    test_metrics = result["test_metrics"]
    for name in ("auc_pr", "auc_roc", "f1", "risk_score_correlation", "top_k_precision", "ndcg_at_k", "latency_ms"):
        assert name in test_metrics

    client = MlflowClient(tracking_uri=tracker.tracking_uri)
    parent = client.get_run(result["mlflow_run_id"])
    assert parent.data.tags["gnn.study_name"] == "tracked" and parent.info.status == "FINISHED"
    assert parent.data.params["model_type"] == "gat" and parent.data.params["objective"] == "val_auc_pr"
    assert parent.data.metrics["best_score"] == pytest.approx(result["best_score"])
    assert parent.data.metrics["test_auc_pr"] == pytest.approx(test_metrics["auc_pr"])
    children = client.search_runs([tracker.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    by_number = {int(run.data.tags["number"]): run for run in children}
    assert set(by_number) == {t["number"] for t in trials}
    for trial in trials:
        run = by_number[trial["number"]]
        assert run.data.tags["state"] == "COMPLETE"
        assert run.data.params == {name: str(value) for name, value in trial["params"].items()}
        assert run.data.metrics[MLFLOW_OBJECTIVE_METRIC] == pytest.approx(trial["value"])
        curve = client.get_metric_history(run.info.run_id, "val_auc_pr")
        assert sorted(m.step for m in curve) == [1, 2, 3]


def test_a_trial_worse_than_the_median_is_pruned(graphs, storage, tracker):
    mapping, (train, val, _) = graphs
    optimizer = GNNHyperparameterOptimizer("graphsage", storage=storage, study_name="pruning", tracker=tracker,
                                           n_startup_trials=1, n_warmup_steps=0, fixed=FAST)
    # A finished reference trial with a perfect AUC-PR at every epoch: the median at each step is 1.0, which noisy
    # Bernoulli labels make unreachable, so every new trial is below it at its first report and must be pruned.
    optimizer.study().add_trial(optuna.trial.create_trial(value=1.0, intermediate_values={e: 1.0 for e in range(1, 6)}))
    result = optimizer.optimize(train, val, n_trials=3, max_epochs=5, mapping=mapping)
    trials = optimizer.trials()
    optimizer.close()

    assert (result["n_complete"], result["n_pruned"], result["n_run"]) == (1, 2, 2)
    assert result["best_trial"] == 0 and result["best_config"] is None  # the hand-made reference has no params
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    assert [t["last_epoch"] for t in pruned] == [1, 1]  # stopped at the first report, not after 5 epochs
    client = MlflowClient(tracking_uri=tracker.tracking_uri)
    children = client.search_runs([tracker.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{result['mlflow_run_id']}'")
    assert sorted(run.data.tags["state"] for run in children) == ["PRUNED", "PRUNED"]
    for run in children:
        # Optuna gives a pruned trial its last reported value; its curve stops at the pruning epoch.
        assert [m.step for m in client.get_metric_history(run.info.run_id, "val_auc_pr")] == [1]
        assert run.data.metrics[MLFLOW_OBJECTIVE_METRIC] == pytest.approx(run.data.metrics["val_auc_pr"])
        assert run.data.metrics[MLFLOW_OBJECTIVE_METRIC] < 1.0


_KILLED_WORKER = textwrap.dedent("""
    import sys, time
    import torch
    torch.set_num_threads(1)
    from gnn_neo4j import training
    from gnn_neo4j.dataset import from_property_graph
    from gnn_neo4j.mapping import load_mapping
    from gnn_neo4j.synthetic import SyntheticDataGenerator
    from gnn_neo4j.tuning import GNNHyperparameterOptimizer

    real_fit = training.fit

    def slow_fit(train, val, config, on_epoch=None, **kwargs):
        # A slow worker: each epoch takes a while, so the test can kill it in the middle of a trial.
        def on_epoch_then_wait(epoch, metrics):
            on_epoch(epoch, metrics)
            time.sleep(0.5)
        return real_fit(train, val, config, on_epoch_then_wait, **kwargs)

    training.fit = slow_fit
    mapping = load_mapping("canonical")
    graphs = [from_property_graph(SyntheticDataGenerator(seed=s, assets=120).generate_all().graph, mapping)
              for s in (21, 22)]
    optimizer = GNNHyperparameterOptimizer("graphsage", storage=sys.argv[1], study_name="resumable",
                                           heartbeat_interval=1, grace_period=2, fixed={"risk_trials": 32})
    optimizer.optimize(graphs[0], graphs[1], n_trials=5, max_epochs=50, mapping=mapping)
""")


def _running_trial(storage: str) -> optuna.trial.FrozenTrial | None:
    try:
        study = optuna.load_study(study_name="resumable", storage=storage)
    except KeyError:
        return None
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    return next((t for t in running if t.intermediate_values), None)


def test_a_killed_workers_trial_is_failed_and_retried_on_resume(graphs, storage, tmp_path):
    mapping, (train, val, _) = graphs
    script = tmp_path / "worker.py"
    script.write_text(_KILLED_WORKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with open(tmp_path / "worker.log", "wb") as out:
        worker = subprocess.Popen([sys.executable, "-W", "ignore", str(script), storage], cwd=REPO_ROOT, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            running = None
            while running is None and time.monotonic() < deadline and worker.poll() is None:
                time.sleep(0.2)
                running = _running_trial(storage)
        finally:
            worker.kill()
            worker.wait()
    assert running is not None, (tmp_path / "worker.log").read_text(encoding="utf-8")[-3000:]
    killed = optuna.load_study(study_name="resumable", storage=storage).trials[running.number]
    assert killed.state == optuna.trial.TrialState.RUNNING  # what a SIGKILL leaves behind

    time.sleep(3.5)  # let the heartbeat go stale (grace period 2 s)
    optimizer = GNNHyperparameterOptimizer("graphsage", storage=storage, study_name="resumable",
                                           heartbeat_interval=1, grace_period=2, fixed=FAST)
    result = optimizer.optimize(train, val, n_trials=1, max_epochs=2, mapping=mapping)
    trials = {t["number"]: t for t in optimizer.trials()}
    optimizer.close()

    assert trials[running.number]["state"] == "FAIL"
    retried = [t for t in trials.values() if t["retried_from"] == running.number]
    assert len(retried) == 1 and retried[0]["state"] == "COMPLETE"
    assert retried[0]["params"] == running.params  # the same configuration, run again
    assert (result["n_failed"], result["n_complete"], result["n_run"]) == (1, 1, 1)


def test_two_optimizers_on_one_storage_share_the_study(graphs, storage):
    mapping, (train, val, _) = graphs
    first = GNNHyperparameterOptimizer("graphsage", storage=storage, study_name="shared", seed=0, fixed=FAST)
    second = GNNHyperparameterOptimizer("graphsage", storage=storage, study_name="shared", seed=1, fixed=FAST)
    result_1 = first.optimize(train, val, n_trials=2, max_epochs=2, mapping=mapping)
    result_2 = second.optimize(train, val, n_trials=3, max_epochs=2, mapping=mapping)

    assert (result_1["n_run"], result_1["n_trials"]) == (2, 2)
    assert (result_2["n_run"], result_2["n_trials"], result_2["n_complete"]) == (1, 3, 3)
    assert first.trials() == second.trials()
    assert [t["number"] for t in second.trials()] == [0, 1, 2]
    assert result_2["best_score"] == max(t["value"] for t in second.trials())
    again = second.optimize(train, val, n_trials=3, max_epochs=2, mapping=mapping)  # target reached: nothing to do
    assert again["n_run"] == 0 and again["n_trials"] == 3
    first.close()
    second.close()

    other = GNNHyperparameterOptimizer("gat", storage=storage, study_name="shared", fixed=FAST)
    with pytest.raises(TuningError, match="tunes graphsage"):
        other.optimize(train, val, n_trials=1, max_epochs=2, mapping=mapping)
    other.close()


def test_validation_labels_of_one_class_are_refused(graphs, storage):
    mapping, (train, val, _) = graphs
    one_class = copy.copy(val)
    one_class.edge_label = np.where(np.isnan(val.edge_label), np.nan, 1.0)
    optimizer = GNNHyperparameterOptimizer("graphsage", storage=storage, fixed=FAST)
    with pytest.raises(TuningError, match="both classes"):
        optimizer.optimize(train, one_class, n_trials=1, max_epochs=2, mapping=mapping)
    optimizer.close()


def test_tune_cli_runs_resumes_and_refuses_passwords_in_flags(tmp_path, empty_mlflow_db):
    from gnn_neo4j.cli.tune import tune

    shutil.copy(empty_mlflow_db, tmp_path / "mlflow.db")
    settings = Settings(data_dir=tmp_path)
    args = ["--model", "graphsage", "--max-epochs", "2", "--seeds", "21,22,23", "--json"]
    cli = CliRunner()
    first = cli.invoke(tune, [*args, "--trials", "2"], obj=settings)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert (report["n_complete"], report["n_run"]) == (2, 2)
    assert report["study_name"] == "graphsage-synthetic-small-21-22"
    assert report["storage"] == f"sqlite:///{tmp_path / 'optuna.db'}"
    assert set(report["best_params"]) == GRAPHSAGE_PARAMS
    assert "auc_pr" in report["test_metrics"]
    assert MlflowClient(tracking_uri=settings.tracking_uri).get_run(report["mlflow_run_id"]).info.status == "FINISHED"

    resumed = cli.invoke(tune, [*args, "--trials", "3"], obj=settings)
    assert resumed.exit_code == 0, resumed.output
    again = json.loads(resumed.stdout)
    assert (again["n_trials"], again["n_run"], again["mlflow_run_id"]) == (3, 1, report["mlflow_run_id"])

    text = cli.invoke(tune, ["--model", "graphsage", "--trials", "3", "--max-epochs", "2", "--seeds", "21,22",
                             "--no-track"], obj=settings)
    assert text.exit_code == 0, text.output
    assert "best trial" in text.stdout and "learning_rate" in text.stdout

    other_model = cli.invoke(tune, ["--model", "gat", "--study", report["study_name"], "--trials", "1", "--seeds",
                                    "21,22", "--json"], obj=settings)
    assert isinstance(other_model.exception, GnnError) and "tunes graphsage" in str(other_model.exception)

    refused = cli.invoke(tune, ["--model", "gat", "--trials", "1", "--storage", "postgresql://tuner:hunter2@db/optuna"],
                         obj=settings)
    assert refused.exit_code == 2 and "password" in refused.output and "hunter2" not in refused.output
    bad_seeds = cli.invoke(tune, ["--model", "gat", "--trials", "1", "--seeds", "1,1"], obj=settings)
    assert bad_seeds.exit_code == 2
