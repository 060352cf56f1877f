"""Training: targets and their counts, refusal without labels, splits, reproducibility, mini-batches, save/load."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch

from gnn_neo4j import training
from gnn_neo4j.dataset import from_property_graph
from gnn_neo4j.features import FeatureSpec
from gnn_neo4j.mapping import load_mapping, parse_mapping
from gnn_neo4j.synthetic import SyntheticDataGenerator
from gnn_neo4j.training import (
    TorchNeighborSampler,
    TrainConfig,
    edge_targets,
    encode_graph,
    fit,
    load_model,
    make_link_loader,
    monte_carlo_risk,
    predict,
    save_model,
    split_labelled_edges,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MAPPING = load_mapping("canonical")
FAST = dict(hidden_dim=16, num_layers=2, num_heads=2, epochs=6, patience=3, learning_rate=5e-3, risk_trials=64)


@pytest.fixture(scope="module")
def graphs():
    return [from_property_graph(SyntheticDataGenerator(seed, assets=150).generate_all().graph, MAPPING)
            for seed in (21, 22)]


def _unlabelled(data):
    data = copy.copy(data)
    data.edge_label = np.full(data.num_edges, np.nan)
    data.edge_feedback = np.full(data.num_edges, np.nan)
    return data


# -- targets ------------------------------------------------------------------------------------------------


def test_feedback_overrides_outcome_and_priors_apply_only_without_outcomes(graphs):
    data = copy.copy(graphs[0])
    labelled = np.flatnonzero(~np.isnan(data.edge_label))
    data.edge_feedback = np.full(data.num_edges, np.nan)
    data.edge_feedback[labelled[0]] = 1.0 - data.edge_label[labelled[0]]
    unlabelled = np.flatnonzero(np.isnan(data.edge_label))[0]
    data.edge_feedback[unlabelled] = 1.0
    targets = edge_targets(data, MAPPING.priors())
    assert targets.counts() == {"outcome": len(labelled) - 1, "feedback": 2, "prior": 0}
    by_edge = dict(zip(targets.index.tolist(), targets.target.tolist()))
    assert by_edge[labelled[0]] == 1.0 - data.edge_label[labelled[0]]
    assert by_edge[unlabelled] == 1.0
    assert set(np.unique(targets.weight).tolist()) == {1.0}

    bare = _unlabelled(graphs[0])
    bare.edge_feedback[0] = 0.0
    weak = edge_targets(bare, MAPPING.priors(), prior_weight=0.25)
    assert weak.counts() == {"outcome": 0, "feedback": 1, "prior": bare.num_edges - 1}
    prior_rows = weak.kind == "prior"
    expected = [MAPPING.priors()[t] for t in bare.edge_type[weak.index[prior_rows]].tolist()]
    np.testing.assert_allclose(weak.target[prior_rows], expected)
    assert np.all(weak.weight[prior_rows] == 0.25)
    assert weak.target[~prior_rows].tolist() == [0.0]


def test_fit_reports_label_counts(graphs):
    result = fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING)
    expected = int((~np.isnan(graphs[0].edge_label)).sum())
    assert result.label_counts == {"outcome": expected, "feedback": 0, "prior": 0}
    assert 1 <= result.best_epoch <= result.epochs_run <= FAST["epochs"]
    assert result.epochs_to_convergence == result.best_epoch
    assert len(result.history) == result.epochs_run
    assert result.training_seconds > 0
    assert not result.mini_batch
    assert set(result.metrics) >= {"val_loss", "val_auc_roc", "val_risk_head_correlation"}


def test_priors_are_weak_labels_when_no_outcome_exists(graphs):
    result = fit(_unlabelled(graphs[0]), _unlabelled(graphs[1]), TrainConfig(**FAST), mapping=MAPPING)
    assert result.label_counts == {"outcome": 0, "feedback": 0, "prior": graphs[0].num_edges}


def test_refuses_to_train_without_labels_or_priors(graphs):
    no_priors = parse_mapping({
        "name": "canonical",
        "node_labels": {kind.label: {"features": {f.name: {"type": f.type, "values": list(f.values)}
                                                  for f in kind.features}} for kind in MAPPING.node_kinds},
        "attack_relationships": {rel: {} for rel in MAPPING.rel_types},
        "entry_points": {"property": "internet_exposed"},
        "crown_jewels": {"property": "critical"},
        "training_labels": {"property": "exploited"},
    })
    with pytest.raises(ValueError, match="^no training labels: .*exploited.*gnn_feedback"):
        fit(_unlabelled(graphs[0]), graphs[1], TrainConfig(**FAST), mapping=no_priors)
    with pytest.raises(ValueError, match="^no training labels"):
        fit(_unlabelled(graphs[0]), graphs[1], TrainConfig(**FAST), priors={})
    with pytest.raises(ValueError, match="^no training labels"):
        fit(_unlabelled(graphs[0]), None, TrainConfig(**FAST), mapping=no_priors)


def test_config_is_validated():
    with pytest.raises(ValueError, match="model type"):
        TrainConfig(model_type="gcn")
    with pytest.raises(ValueError, match="divisible"):
        TrainConfig(model_type="gat", hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)
    config = TrainConfig(model_type="gat", batch_size=32)
    assert TrainConfig.from_dict({**config.to_dict(), "unknown_key": 1}) == config


# -- splits and leakage -------------------------------------------------------------------------------------


def test_split_labelled_edges_is_disjoint_and_complete(graphs):
    data = graphs[0]
    train, val, test = split_labelled_edges(data, (0.6, 0.2, 0.2), seed=3)
    sets = [set(np.flatnonzero(s.labelled_mask).tolist()) for s in (train, val, test)]
    assert all(sets)
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set().union(*sets) == set(np.flatnonzero(data.labelled_mask).tolist())
    assert abs(len(sets[0]) - 0.6 * sum(map(len, sets))) <= 1
    # the message-passing graph is the whole graph in every split; labels agree where kept
    for split in (train, val, test):
        assert np.array_equal(split.edge_src, data.edge_src) and np.array_equal(split.edge_dst, data.edge_dst)
        kept = split.labelled_mask
        np.testing.assert_array_equal(split.edge_label[kept], data.edge_label[kept])
    assert split_labelled_edges(data, (0.6, 0.2, 0.2), seed=3)[1].edge_label.tobytes() == val.edge_label.tobytes()
    with pytest.raises(ValueError, match="fractions"):
        split_labelled_edges(data, (0.5, 0.2))


def test_training_on_a_split_uses_only_its_labels(graphs):
    train, val = split_labelled_edges(graphs[0], (0.7, 0.3), seed=1)
    result = fit(train, val, TrainConfig(**FAST), mapping=MAPPING)
    assert result.label_counts["outcome"] == int(train.labelled_mask.sum())
    assert result.metrics["val_labelled_edges"] == int(val.labelled_mask.sum())


def test_feature_spec_is_fitted_on_training_graphs_only(graphs, monkeypatch):
    seen = []
    original = FeatureSpec.fit.__func__

    def spy(cls, train, *args, **kwargs):
        seen.append([id(g) for g in ([train] if not isinstance(train, list) else train)])
        return original(cls, train, *args, **kwargs)

    monkeypatch.setattr(FeatureSpec, "fit", classmethod(spy))
    fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING)
    assert seen == [[id(graphs[0])]]


# -- reproducibility ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_type", ["graphsage", "gat"])
def test_same_seed_same_weights_and_metrics(graphs, model_type):
    config = TrainConfig(**FAST, seed=7, model_type=model_type)
    first = fit(graphs[0], graphs[1], config, mapping=MAPPING)
    second = fit(graphs[0], graphs[1], config, mapping=MAPPING)
    for key, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key]), key
    assert first.history == second.history
    assert json.dumps(first.metrics, sort_keys=True) == json.dumps(second.metrics, sort_keys=True)
    other = fit(graphs[0], graphs[1], TrainConfig(**FAST, seed=8, model_type=model_type), mapping=MAPPING)
    assert not torch.equal(other.model.edge_head.wide.weight, first.model.edge_head.wide.weight)


def test_mini_batch_training_reproducible_and_uses_the_loader(graphs, monkeypatch):
    calls = []
    original = TorchNeighborSampler._sample

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(TorchNeighborSampler, "_sample", counting)
    full = fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING)
    assert not calls and not full.mini_batch
    config = TrainConfig(**{**FAST, "epochs": 2, "patience": 5}, batch_size=32, num_neighbors=4)
    result = fit(graphs[0], graphs[1], config, mapping=MAPPING)
    labelled = int((~np.isnan(graphs[0].edge_label)).sum())
    assert result.mini_batch
    assert len(calls) == 2 * math.ceil(labelled / 32)
    again = fit(graphs[0], graphs[1], config, mapping=MAPPING)
    assert result.history == again.history


def test_neighbor_sampler_samples_real_in_edges(graphs):
    spec = FeatureSpec.fit(graphs[0], MAPPING)
    graph = encode_graph(graphs[0], spec)
    torch.manual_seed(0)
    loader = make_link_loader(graph, batch_size=16, num_neighbors=[3, 2])
    edges = set(map(tuple, graph.edge_index.t().tolist()))
    batch = next(iter(loader))
    global_edges = batch.n_id[batch.edge_index]
    assert set(map(tuple, global_edges.t().tolist())) <= edges
    # edge features travel with the sampled edges
    assert torch.equal(batch.edge_attr, graph.edge_attr[batch.e_id])
    # the labelled edges of the batch are real edges with their targets
    label_edges = batch.n_id[batch.edge_label_index]
    expected = graph.edge_index[:, graph.target_index[batch.input_id]]
    assert torch.equal(label_edges, expected)
    assert torch.equal(batch.edge_label, graph.target[batch.input_id])
    # first hop: at most 3 sampled in-edges per seed node
    first_hop = batch.num_sampled_edges[0]
    targets = batch.edge_index[1, :first_hop]
    assert int(torch.bincount(targets).max()) <= 3


# -- callbacks, prediction, persistence ---------------------------------------------------------------------


def test_on_epoch_reports_every_epoch_and_may_stop_training(graphs):
    seen = []
    fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING, on_epoch=lambda e, m: seen.append((e, m)))
    assert [e for e, _ in seen] == list(range(1, len(seen) + 1))
    assert {"train_loss", "val_loss", "val_auc_roc"} <= set(seen[0][1])

    class Pruned(Exception):
        pass

    def prune(epoch, metrics):
        if epoch == 2:
            raise Pruned

    with pytest.raises(Pruned):
        fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING, on_epoch=prune)


def test_validation_split_is_made_when_none_is_given(graphs):
    result = fit(graphs[0], None, TrainConfig(**FAST), mapping=MAPPING)
    labelled = int((~np.isnan(graphs[0].edge_label)).sum())
    assert result.label_counts["outcome"] + result.metrics["val_labelled_edges"] == labelled


def test_predict_shapes_and_risk_methods(graphs):
    result = fit(graphs[0], graphs[1], TrainConfig(**FAST), mapping=MAPPING)
    data = graphs[1]
    edge_prob, risk = predict(result.model, result.spec, data, n_trials=128)
    assert edge_prob.shape == (data.num_edges,) and risk.shape == (data.num_nodes,)
    assert np.all((edge_prob > 0) & (edge_prob < 1))
    assert np.all(risk[data.entry_mask] == 1.0)
    np.testing.assert_array_equal(risk, monte_carlo_risk(data, edge_prob, 128, 0))
    _, head = predict(result.model, result.spec, data, node_risk="head")
    assert head.shape == (data.num_nodes,) and np.all(head[data.entry_mask] == 1.0)
    with pytest.raises(ValueError, match="node_risk"):
        predict(result.model, result.spec, data, node_risk="magic")


def test_save_load_round_trip_with_weights_only(graphs, tmp_path):
    result = fit(graphs[0], graphs[1], TrainConfig(**FAST, model_type="gat"), mapping=MAPPING)
    directory = save_model(result, tmp_path / "model")
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "gat" and config["mapping"] == "canonical"
    assert config["hyperparameters"]["hidden_dim"] == 16
    assert config["feature_spec"] == result.spec.to_dict()
    assert "NaN" not in (directory / "config.json").read_text(encoding="utf-8")
    weights = directory / config["weights"]
    state = torch.load(weights, weights_only=True)  # tensors only: loads without unpickling code
    assert set(state) == set(result.model.state_dict())

    loaded = load_model(directory)
    assert loaded.spec == result.spec and loaded.config == result.config
    assert loaded.label_counts == result.label_counts and loaded.best_epoch == result.best_epoch
    before = training.score_graph(result.model, result.spec, graphs[1])
    after = training.score_graph(loaded.model, loaded.spec, graphs[1])
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])

    (directory / "config.json").write_text(json.dumps({**config, "format": "pickle"}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a gnn-neo4j-model"):
        load_model(directory)
