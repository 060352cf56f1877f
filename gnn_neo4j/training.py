"""Training, evaluation, persistence and prediction of the attack-path GNNs.

Targets (per attack edge, decided by `edge_targets`):

1. analyst feedback (``gnn_feedback``) where present - it overrides everything;
2. else the observed outcome (``exploited``);
3. only on a graph with **no** outcome labels at all: the mapping's prior for the edge's relationship type, as a
   soft target with the lower weight ``TrainConfig.prior_weight``.

With none of these, `fit` raises ``ValueError("no training labels: ...")``: it never invents targets.

Node risk (the probability that an attacker holding every entry point compromises a node) is defined on top of the
edge model, not learned from separate labels:

- **Monte Carlo** (`monte_carlo_risk`, the reference used by evaluation and the default of `predict`): the
  live-edge attacker simulation of `gnn_neo4j.ground_truth.simulate_compromise` run over the *predicted* edge
  probabilities;
- **node-risk head** (``predict(..., node_risk="head")``, fast scoring): after the edge model is trained, its head
  is distilled to regress the Monte Carlo risk of the training graph(s) with the encoder frozen, early-stopped on
  the validation graph(s). It is a one-pass approximation (the encoder sees ``num_layers`` hops, reachability is
  global), so evaluation reports its correlation separately.

Mini-batch training (``TrainConfig.batch_size`` set) uses `torch_geometric.loader.LinkNeighborLoader` over the
labelled edges: each batch holds ``batch_size`` labelled edges and the sampled in-neighbourhoods of their endpoints
(``num_neighbors`` per hop, ``num_layers`` hops). Without ``pyg-lib`` / ``torch-sparse`` the loader gets
`TorchNeighborSampler`, a pure-torch implementation of the same uniform sampling. Validation is full-batch.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping as AbcMapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch_geometric.typing
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.loader import LinkNeighborLoader
from torch_geometric.sampler import NeighborSampler, SamplerOutput

from gnn_neo4j import metrics as metric_fns
from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.features import FeatureSpec
from gnn_neo4j.ground_truth import simulate_compromise
from gnn_neo4j.mapping import Mapping
from gnn_neo4j.models import MODEL_TYPES, AttackPathModel

log = logging.getLogger(__name__)

MODEL_FORMAT = "gnn-neo4j-model"
MODEL_FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
SAFETENSORS_FILE = "weights.safetensors"
TARGET_KINDS = ("outcome", "feedback", "prior")
MONITORS = ("val_loss", "val_auc")


# -- configuration ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters (the seed's search space) plus seed and device.

    Attributes:
        model_type: ``graphsage`` or ``gat``.
        hidden_dim: embedding width.
        num_layers: message-passing layers.
        num_heads: GAT attention heads (must divide ``hidden_dim``; ignored by GraphSAGE).
        dropout: dropout rate.
        learning_rate: initial Adam learning rate (halved when validation stalls for ``patience // 4`` epochs).
        weight_decay: Adam L2 penalty (coupled weight decay).
        batch_size: labelled edges per mini-batch (LinkNeighborLoader); ``None`` trains full-batch.
        epochs: maximum epochs (edge model; the node-risk head distillation gets the same budget).
        patience: epochs without validation improvement before early stopping.
        seed: seeds torch (weights, dropout, sampling) and the Monte Carlo risk targets.
        device: torch device string, e.g. ``cpu`` or ``cuda``.
        num_neighbors: neighbours sampled per node and hop in mini-batch mode.
        prior_weight: loss weight of prior (weak) targets relative to observed ones.
        risk_trials: Monte Carlo trials for the node-risk distillation targets.
        monitor: early-stopping criterion, ``val_loss`` (lower is better) or ``val_auc`` (higher is better).
    """

    model_type: str = "graphsage"
    hidden_dim: int = 64
    num_layers: int = 2
    num_heads: int = 4
    dropout: float = 0.1
    learning_rate: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int | None = None
    epochs: int = 100
    patience: int = 20
    seed: int = 0
    device: str = "cpu"
    num_neighbors: int = 10
    prior_weight: float = 0.3
    risk_trials: int = 512
    monitor: str = "val_loss"

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ValueError(f"unknown model type {self.model_type!r}; known: {', '.join(MODEL_TYPES)}")
        for name in ("hidden_dim", "num_layers", "num_heads", "epochs", "patience", "num_neighbors", "risk_trials"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.batch_size is not None and (isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int)
                                            or self.batch_size < 1):
            raise ValueError(f"batch_size must be None or an integer >= 1, got {self.batch_size!r}")
        if self.model_type == "gat" and self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim ({self.hidden_dim}) must be divisible by num_heads ({self.num_heads})")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")
        if not self.learning_rate > 0 or self.weight_decay < 0:
            raise ValueError("learning_rate must be > 0 and weight_decay >= 0")
        if not 0.0 < self.prior_weight <= 1.0:
            raise ValueError(f"prior_weight must lie in (0, 1], got {self.prior_weight}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {', '.join(MONITORS)}, got {self.monitor!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: AbcMapping[str, Any]) -> "TrainConfig":
        """Build from a dict, ignoring unknown keys (so older configs keep loading)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


# -- targets ------------------------------------------------------------------------------------------------


@dataclass
class EdgeTargets:
    """Training targets of one graph.

    Attributes:
        index: edge indices that have a target.
        target: target per indexed edge (1.0 / 0.0, or the prior probability).
        weight: loss weight per indexed edge.
        kind: ``outcome``, ``feedback`` or ``prior`` per indexed edge.
    """

    index: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    kind: np.ndarray

    @property
    def hard(self) -> np.ndarray:
        """Which targets are observed 0/1 labels (outcome or feedback), not priors."""
        return self.kind != "prior"

    def counts(self) -> dict[str, int]:
        return {k: int((self.kind == k).sum()) for k in TARGET_KINDS}


def edge_targets(data: AttackGraphData, priors: AbcMapping[str, float] | None = None,
                 prior_weight: float = 0.3) -> EdgeTargets:
    """Decide the target of every edge: feedback, else outcome, else (only without any outcome) the prior.

    Args:
        data: the graph (its ``edge_label`` and ``edge_feedback``).
        priors: relationship type -> prior exploit probability (``Mapping.priors()``); used only when the graph
            has no outcome label at all.
        prior_weight: loss weight of prior targets.

    Returns:
        The targets; possibly empty.
    """
    outcome = data.edge_label
    feedback = data.edge_feedback
    target = np.full(data.num_edges, np.nan)
    weight = np.zeros(data.num_edges)
    kind = np.full(data.num_edges, "", dtype=object)
    has_outcome = ~np.isnan(outcome)
    target[has_outcome] = outcome[has_outcome]
    weight[has_outcome] = 1.0
    kind[has_outcome] = "outcome"
    if not has_outcome.any() and priors:
        prior = np.array([priors.get(str(t), np.nan) for t in data.edge_type.tolist()], dtype=np.float64)
        use = ~np.isnan(prior)
        target[use] = prior[use]
        weight[use] = prior_weight
        kind[use] = "prior"
    has_feedback = ~np.isnan(feedback)
    target[has_feedback] = feedback[has_feedback]
    weight[has_feedback] = 1.0
    kind[has_feedback] = "feedback"
    index = np.flatnonzero(~np.isnan(target))
    return EdgeTargets(index=index, target=target[index], weight=weight[index], kind=kind[index].astype(str))


def split_labelled_edges(data: AttackGraphData, fractions: Sequence[float] = (0.7, 0.15, 0.15),
                         seed: int = 0) -> tuple[AttackGraphData, ...]:
    """Split the labelled edges of one real graph into disjoint sets (train / validation / test ...).

    Each returned graph is the whole graph (message passing may use every edge) with ``edge_label`` and
    ``edge_feedback`` kept only on its own share of the labelled edges (outcome or feedback), NaN elsewhere, so
    losses and metrics computed on it use only that share.

    Args:
        data: the graph.
        fractions: share of labelled edges per split; positive, summing to 1.
        seed: shuffling seed.

    Returns:
        One graph per fraction.

    Raises:
        ValueError: bad fractions, or fewer labelled edges than splits (every split needs one).
    """
    shares = np.asarray(list(fractions), dtype=np.float64)
    if shares.ndim != 1 or len(shares) < 2 or (shares <= 0).any() or not math.isclose(shares.sum(), 1.0,
                                                                                        abs_tol=1e-6):
        raise ValueError(f"fractions must be >= 2 positive numbers summing to 1, got {list(fractions)}")
    labelled = np.flatnonzero(data.labelled_mask)
    if len(labelled) < len(shares):
        raise ValueError(f"{len(labelled)} labelled edges cannot be split {len(shares)} ways")
    order = np.random.default_rng(seed).permutation(labelled)
    counts = np.maximum(1, np.round(shares * len(order)).astype(np.int64))
    while counts.sum() > len(order):
        counts[np.argmax(counts)] -= 1
    while counts.sum() < len(order):
        counts[np.argmax(shares * len(order) - counts)] += 1
    parts = np.split(order, np.cumsum(counts)[:-1])
    splits = []
    for part in parts:
        keep = np.zeros(data.num_edges, dtype=bool)
        keep[part] = True
        split = copy.copy(data)
        split.edge_label = np.where(keep, data.edge_label, np.nan)
        split.edge_feedback = np.where(keep, data.edge_feedback, np.nan)
        splits.append(split)
    return tuple(splits)


# -- encoded graphs and loaders -----------------------------------------------------------------------------


@dataclass
class EncodedGraph:
    """A graph as tensors plus its training targets (what `train_epoch` and `evaluate` consume).

    Attributes:
        x: node features (N, F).
        edge_index: attack edges (2, E), source row first.
        edge_attr: edge features (E, Fe).
        target_index: edges with a target (T,).
        target: target per such edge (T,).
        weight: loss weight per such edge (T,).
        hard: whether each target is an observed 0/1 label (T,).
        counts: target counts per kind.
    """

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor
    target_index: Tensor
    target: Tensor
    weight: Tensor
    hard: Tensor
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: str | torch.device) -> "EncodedGraph":
        return EncodedGraph(self.x.to(device), self.edge_index.to(device), self.edge_attr.to(device),
                            self.target_index.to(device), self.target.to(device), self.weight.to(device),
                            self.hard.to(device), dict(self.counts))


def encode_graph(data: AttackGraphData | Sequence[AttackGraphData], spec: FeatureSpec,
                 priors: AbcMapping[str, float] | None = None, prior_weight: float = 0.3) -> EncodedGraph:
    """Encode one graph, or several as one disjoint union, with their targets.

    Args:
        data: the graph(s).
        spec: fitted feature spec.
        priors: relationship type -> prior (see `edge_targets`).
        prior_weight: loss weight of prior targets.

    Returns:
        The encoded graph (on CPU).
    """
    graphs = [data] if isinstance(data, AttackGraphData) else list(data)
    xs, edge_indices, edge_attrs, t_index, t_value, t_weight, t_hard = [], [], [], [], [], [], []
    counts = {k: 0 for k in TARGET_KINDS}
    node_offset = edge_offset = 0
    for graph in graphs:
        x, edge_attr = spec.encode(graph)
        targets = edge_targets(graph, priors, prior_weight)
        xs.append(x)
        edge_attrs.append(edge_attr)
        edge_indices.append(torch.from_numpy(np.stack([graph.edge_src, graph.edge_dst])) + node_offset)
        t_index.append(torch.from_numpy(targets.index + edge_offset))
        t_value.append(torch.from_numpy(targets.target.astype(np.float32)))
        t_weight.append(torch.from_numpy(targets.weight.astype(np.float32)))
        t_hard.append(torch.from_numpy(targets.hard))
        for k, v in targets.counts().items():
            counts[k] += v
        node_offset += graph.num_nodes
        edge_offset += graph.num_edges
    return EncodedGraph(
        x=torch.cat(xs), edge_index=torch.cat(edge_indices, dim=1).long(), edge_attr=torch.cat(edge_attrs),
        target_index=torch.cat(t_index).long(), target=torch.cat(t_value), weight=torch.cat(t_weight),
        hard=torch.cat(t_hard), counts=counts)


class TorchNeighborSampler(NeighborSampler):
    """`NeighborSampler` that falls back to pure-torch uniform sampling when neither pyg-lib nor torch-sparse exist.

    Same contract as the compiled samplers for homogeneous, non-temporal, non-disjoint graphs: starting from the
    seed nodes, each hop draws up to ``num_neighbors[hop]`` incoming edges (without replacement, all when fewer;
    ``-1`` means all) of every newly reached node; the subgraph holds exactly the sampled edges. Randomness comes
    from torch's global generator, so ``torch.manual_seed`` makes it reproducible.
    """

    def _sample(self, seed: Tensor, seed_time: Tensor | None = None, **kwargs: Any) -> SamplerOutput:
        compiled = torch_geometric.typing.WITH_PYG_LIB or torch_geometric.typing.WITH_TORCH_SPARSE
        if compiled or isinstance(seed, dict) or seed_time is not None or self.disjoint:
            return super()._sample(seed, seed_time, **kwargs)
        colptr, row = self.colptr, self.row
        num_nodes = colptr.numel() - 1
        local = torch.full((num_nodes,), -1, dtype=torch.long)
        nodes = [seed.long()]
        local[seed] = torch.arange(seed.numel())
        count = seed.numel()
        frontier = seed.long()
        rows, cols, edges = [], [], []
        sampled_nodes, sampled_edges = [seed.numel()], []
        for fanout in self.num_neighbors.get_mapped_values():
            start = colptr[frontier]
            degree = colptr[frontier + 1] - start
            total = int(degree.sum())
            if total == 0 or fanout == 0:
                sampled_nodes.append(0)
                sampled_edges.append(0)
                frontier = frontier[:0]
                continue
            owner = torch.repeat_interleave(torch.arange(frontier.numel()), degree)
            first = torch.cumsum(degree, 0) - degree
            position = start[owner] + torch.arange(total) - first[owner]
            if fanout > 0:
                order = torch.argsort(owner.double() + torch.rand(total, dtype=torch.float64), stable=True)
                rank = torch.arange(total) - first[owner[order]]
                position = position[order][rank < fanout]
                owner = owner[order][rank < fanout]
            neighbour = row[position]
            fresh = torch.unique(neighbour[local[neighbour] < 0])
            local[fresh] = torch.arange(count, count + fresh.numel())
            count += fresh.numel()
            nodes.append(fresh)
            rows.append(local[neighbour])
            cols.append(local[frontier[owner]])
            edges.append(position)
            sampled_nodes.append(fresh.numel())
            sampled_edges.append(position.numel())
            frontier = fresh
        empty = torch.empty(0, dtype=torch.long)
        return SamplerOutput(
            node=torch.cat(nodes),
            row=torch.cat(rows) if rows else empty,
            col=torch.cat(cols) if cols else empty,
            edge=torch.cat(edges) if edges else empty,
            batch=None,
            num_sampled_nodes=sampled_nodes,
            num_sampled_edges=sampled_edges,
        )


def make_link_loader(graph: EncodedGraph, batch_size: int, num_neighbors: Sequence[int],
                     shuffle: bool = True) -> LinkNeighborLoader:
    """A `LinkNeighborLoader` over the labelled edges of ``graph``.

    Each batch carries ``edge_label_index`` (the batch's labelled edges in local node indices), ``edge_label``
    (their targets) and ``input_id`` (their positions in ``graph.target_index``), plus the sampled subgraph's
    ``x``, ``edge_index`` and ``edge_attr``.

    Args:
        graph: encoded graph on CPU.
        batch_size: labelled edges per batch.
        num_neighbors: neighbours sampled per hop.
        shuffle: shuffle the labelled edges each epoch.

    Returns:
        The loader.
    """
    data = Data(x=graph.x, edge_index=graph.edge_index, edge_attr=graph.edge_attr, num_nodes=graph.num_nodes)
    with warnings.catch_warnings():
        # NeighborSampler warns at construction that its torch-sparse fallback is deprecated when pyg-lib is
        # missing; TorchNeighborSampler replaces that fallback with its own sampling, so the warning does not apply.
        warnings.filterwarnings("ignore", message=".*without a 'pyg-lib' installation is deprecated.*",
                                category=UserWarning)
        sampler = TorchNeighborSampler(data, num_neighbors=list(num_neighbors))
    return LinkNeighborLoader(
        data, num_neighbors=list(num_neighbors), edge_label_index=graph.edge_index[:, graph.target_index],
        edge_label=graph.target, batch_size=batch_size, shuffle=shuffle, neighbor_sampler=sampler)


# -- one epoch and evaluation -------------------------------------------------------------------------------


def _weighted_bce(logits: Tensor, target: Tensor, weight: Tensor) -> Tensor:
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (loss * weight).sum() / weight.sum().clamp_min(1e-12)


def train_epoch(model: AttackPathModel, batches: EncodedGraph | Iterable[Data], optimizer: torch.optim.Optimizer,
                *, graph: EncodedGraph | None = None, device: str | torch.device = "cpu") -> float:
    """Run one training epoch of the edge-exploitability task.

    Args:
        model: the model (put in training mode here).
        batches: an `EncodedGraph` (one full-batch step) or a `make_link_loader` loader (one step per batch).
        optimizer: the optimizer.
        graph: with a loader, the `EncodedGraph` it was built from (targets, weights and edge features of the
            labelled edges are looked up in it by the batch's ``input_id``).
        device: where the computation runs.

    Returns:
        The mean weighted BCE loss over the epoch's labelled edges.

    Raises:
        ValueError: a loader without ``graph``.
    """
    model.train()
    if isinstance(batches, EncodedGraph):
        g = batches
        optimizer.zero_grad()
        h = model.encode(g.x, g.edge_index, g.edge_attr)
        index = g.target_index
        logits = model.edge_logits(h, g.x, g.edge_index[:, index], g.edge_attr[index])
        loss = _weighted_bce(logits, g.target, g.weight)
        loss.backward()
        optimizer.step()
        return float(loss.detach())
    if graph is None:
        raise ValueError("train_epoch over a loader needs the EncodedGraph it was built from (graph=...)")
    total = weight_sum = 0.0
    for batch in batches:
        batch = batch.to(device)
        position = batch.input_id
        edge_ids = graph.target_index[position.cpu()].to(device)
        weight = graph.weight[position.cpu()].to(device)
        optimizer.zero_grad()
        h = model.encode(batch.x, batch.edge_index, batch.edge_attr)
        logits = model.edge_logits(h, batch.x, batch.edge_label_index, graph.edge_attr[edge_ids.cpu()].to(device))
        loss = _weighted_bce(logits, batch.edge_label.float(), weight)
        loss.backward()
        optimizer.step()
        w = float(weight.sum())
        total += float(loss.detach()) * w
        weight_sum += w
    return total / weight_sum if weight_sum else math.nan


@torch.no_grad()
def evaluate(model: AttackPathModel, graph: EncodedGraph, threshold: float = 0.5) -> dict[str, float]:
    """Loss and classification metrics of the edge model on a graph's targets (full-batch, eval mode).

    Args:
        model: the model.
        graph: encoded graph on the model's device.
        threshold: decision threshold for accuracy / precision / recall / F1.

    Returns:
        ``loss`` (weighted BCE over all targets) and, on the observed 0/1 labels, ``accuracy``, ``precision``,
        ``recall``, ``f1``, ``auc_roc``, ``auc_pr`` (NaN where undefined) and ``labelled_edges``.
    """
    model.eval()
    h = model.encode(graph.x, graph.edge_index, graph.edge_attr)
    index = graph.target_index
    logits = model.edge_logits(h, graph.x, graph.edge_index[:, index], graph.edge_attr[index])
    result = {"loss": float(_weighted_bce(logits, graph.target, graph.weight)) if len(index) else math.nan}
    hard = graph.hard.cpu().numpy()
    prob = torch.sigmoid(logits).cpu().numpy().astype(np.float64)[hard]
    truth = graph.target.cpu().numpy()[hard]
    result["labelled_edges"] = int(hard.sum())
    if hard.any():
        result.update(metric_fns.classification_metrics(truth, prob, threshold))
    else:
        result.update({k: math.nan for k in ("accuracy", "precision", "recall", "f1", "auc_roc", "auc_pr")})
    return result


# -- node risk ----------------------------------------------------------------------------------------------


def monte_carlo_risk(data: AttackGraphData, edge_prob: np.ndarray, n_trials: int = 1024, seed: int = 0) -> np.ndarray:
    """Probability of compromise per node: attacker simulation over the given edge probabilities.

    Reuses `gnn_neo4j.ground_truth.simulate_compromise` (live-edge model, every entry point held).

    Args:
        data: the graph (edges and entry points).
        edge_prob: exploit probability per edge, in [0, 1].
        n_trials: Monte Carlo trials.
        seed: simulation seed.

    Returns:
        float64 array of shape (N,).
    """
    prob = np.clip(np.asarray(edge_prob, dtype=np.float64), 0.0, 1.0)
    risk, _ = simulate_compromise(data.num_nodes, data.edge_src, data.edge_dst, prob, data.entry_points,
                                  n_trials=n_trials, seed=seed)
    return risk


# -- results, fit -------------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What `fit` returns and `load_model` restores.

    Attributes:
        model: the trained model (best validation epoch restored), on CPU after `load_model`.
        spec: the fitted feature spec.
        config: the hyperparameters used.
        history: one dict per epoch: ``epoch``, ``train_loss`` and the validation metrics (``val_*``).
        best_epoch: epoch whose weights were kept.
        epochs_to_convergence: epochs until the best validation score was reached (= best_epoch).
        epochs_run: epochs actually run (early stopping may end before ``config.epochs``).
        training_seconds: wall time of `fit`.
        label_counts: ``{"outcome": n, "feedback": n, "prior": n}`` training targets by kind.
        metrics: validation metrics at the best epoch plus the node-risk head's distillation score.
        mapping: mapping name the model was trained for.
        mini_batch: whether training used the LinkNeighborLoader.
    """

    model: AttackPathModel
    spec: FeatureSpec
    config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    epochs_to_convergence: int
    epochs_run: int
    training_seconds: float
    label_counts: dict[str, int]
    metrics: dict[str, float]
    mapping: str
    mini_batch: bool = False


def _as_list(data: AttackGraphData | Sequence[AttackGraphData] | None) -> list[AttackGraphData]:
    if data is None:
        return []
    return [data] if isinstance(data, AttackGraphData) else list(data)


def _score(metrics: dict[str, float], monitor: str) -> float:
    """Higher is better."""
    if monitor == "val_auc":
        value = metrics.get("auc_roc", math.nan)
        return -math.inf if math.isnan(value) else value
    value = metrics.get("loss", math.nan)
    return -math.inf if math.isnan(value) else -value


class _Deterministic:
    """Deterministic torch kernels on CPU for the duration of a block (restores the previous setting)."""

    def __init__(self, device: torch.device) -> None:
        self.enable = device.type == "cpu"
        self.previous = torch.are_deterministic_algorithms_enabled()

    def __enter__(self) -> None:
        if self.enable:
            torch.use_deterministic_algorithms(True)

    def __exit__(self, *exc: object) -> None:
        if self.enable:
            torch.use_deterministic_algorithms(self.previous)


def fit(
    train_data: AttackGraphData | Sequence[AttackGraphData],
    val_data: AttackGraphData | Sequence[AttackGraphData] | None,
    config: TrainConfig,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    *,
    mapping: Mapping | None = None,
    priors: AbcMapping[str, float] | None = None,
    spec: FeatureSpec | None = None,
) -> TrainResult:
    """Train an `AttackPathModel` with early stopping on the validation graph(s).

    Args:
        train_data: training graph(s): several synthetic seeds, or one split of `split_labelled_edges`.
        val_data: validation graph(s); ``None`` splits the training graphs' labelled edges 80/20 (seeded), or,
            on graphs without any labelled edge, validates on the training graphs' prior targets.
        config: hyperparameters, seed and device.
        on_epoch: called after every epoch with ``(epoch, metrics)``; ``metrics`` holds ``train_loss`` and the
            validation metrics as ``val_loss``, ``val_auc_roc`` ... - an Optuna objective reports from here and may
            raise ``optuna.TrialPruned``, which propagates.
        mapping: the mapping (declared categorical values for the feature spec, and its priors).
        priors: relationship type -> prior; defaults to ``mapping.priors()``.
        spec: a feature spec to reuse instead of fitting one on ``train_data``.

    Returns:
        The `TrainResult`.

    Raises:
        ValueError: ``"no training labels: ..."`` when the training graphs have no outcome, no feedback and no
            prior applies; a validation set without targets.
    """
    began = time.perf_counter()
    device = torch.device(config.device)
    train_graphs = _as_list(train_data)
    if not train_graphs:
        raise ValueError("fit needs at least one training graph")
    val_graphs = _as_list(val_data)
    if not val_graphs:
        if all(int(g.labelled_mask.sum()) >= 2 for g in train_graphs):
            pairs = [split_labelled_edges(g, (0.8, 0.2), seed=config.seed) for g in train_graphs]
            train_graphs = [p[0] for p in pairs]
            val_graphs = [p[1] for p in pairs]
        else:
            # Nothing observed to hold out: only prior (weak) targets can exist, and they are the same everywhere.
            log.warning("no labelled edges to hold out for validation; validating on the training graph's priors")
            val_graphs = train_graphs
    if priors is None:
        priors = mapping.priors() if mapping is not None else {}
    spec = spec or FeatureSpec.fit(train_graphs, mapping)
    train = encode_graph(train_graphs, spec, priors, config.prior_weight)
    label_counts = dict(train.counts)
    if not len(train.target_index):
        raise ValueError(
            "no training labels: the training graph(s) have no observed outcomes (edge property "
            f"{_label_property(mapping)!r}), no analyst feedback ({_feedback_property(mapping)!r}) and no "
            "relationship-type prior applies; record outcomes, give feedback with gnn.feedback, or add priors to "
            "the mapping")
    val = encode_graph(val_graphs, spec, priors, config.prior_weight)
    if not len(val.target_index):
        raise ValueError("the validation graph(s) have no labelled edges (outcomes, feedback or priors)")
    log.info("training %s on %d edges (%s), validating on %d", config.model_type, len(train.target_index),
             label_counts, len(val.target_index))

    with _Deterministic(device):
        torch.manual_seed(config.seed)
        model = build_model(config, spec).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        # Halve the learning rate when validation stalls for a quarter of the patience (settles noisy mini-batches).
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                               patience=max(1, config.patience // 4))
        train_dev, val_dev = train.to(device), val.to(device)
        loader = None
        if config.batch_size is not None:
            loader = make_link_loader(train, config.batch_size, [config.num_neighbors] * config.num_layers)
        history: list[dict[str, float]] = []
        best_score, best_epoch, best_state, best_metrics = -math.inf, 0, None, {}
        stale = 0
        epoch = 0
        for epoch in range(1, config.epochs + 1):
            if loader is None:
                train_loss = train_epoch(model, train_dev, optimizer, device=device)
            else:
                train_loss = train_epoch(model, loader, optimizer, graph=train, device=device)
            val_metrics = evaluate(model, val_dev)
            record = {"epoch": epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in val_metrics.items()}}
            history.append(record)
            if on_epoch is not None:
                on_epoch(epoch, dict(record))
            score = _score(val_metrics, config.monitor)
            if math.isfinite(score):
                scheduler.step(score)
            if score > best_score:
                best_score, best_epoch, best_metrics = score, epoch, val_metrics
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                stale = 0
            else:
                stale += 1
                if stale >= config.patience:
                    log.info("early stop at epoch %d (best %d)", epoch, best_epoch)
                    break
        if best_state is not None:
            model.load_state_dict(best_state)
        risk_metrics = _distill_node_risk(model, train_graphs, train_dev, val_graphs, val_dev, config)

    seconds = time.perf_counter() - began
    metrics = {f"val_{k}": v for k, v in best_metrics.items()}
    metrics.update(risk_metrics)
    log.info("trained %s in %.1fs: best epoch %d of %d, val loss %.4f", config.model_type, seconds, best_epoch,
             epoch, best_metrics.get("loss", math.nan))
    return TrainResult(model=model, spec=spec, config=config, history=history, best_epoch=best_epoch,
                       epochs_to_convergence=best_epoch, epochs_run=epoch, training_seconds=seconds,
                       label_counts=label_counts, metrics=metrics, mapping=spec.mapping,
                       mini_batch=loader is not None)


def build_model(config: TrainConfig, spec: FeatureSpec) -> AttackPathModel:
    """The `AttackPathModel` for a config and a feature spec (one edge scorer per relationship type of the spec)."""
    return AttackPathModel(config.model_type, spec.node_dim, spec.edge_dim, config.hidden_dim, config.num_layers,
                           config.dropout, config.num_heads, num_relations=len(spec.rel_types) + 1)


def _label_property(mapping: Mapping | None) -> str:
    return (mapping.label_property if mapping is not None else None) or "exploited"


def _feedback_property(mapping: Mapping | None) -> str:
    return mapping.feedback_property if mapping is not None else "gnn_feedback"


@torch.no_grad()
def _edge_probabilities(model: AttackPathModel, graph: EncodedGraph) -> np.ndarray:
    model.eval()
    h = model.encode(graph.x, graph.edge_index, graph.edge_attr)
    logits = model.edge_logits(h, graph.x, graph.edge_index, graph.edge_attr)
    return torch.sigmoid(logits).cpu().numpy().astype(np.float64)


def _risk_targets(model: AttackPathModel, graphs: list[AttackGraphData], encoded: EncodedGraph,
                  config: TrainConfig) -> Tensor:
    prob = _edge_probabilities(model, encoded)
    risks = []
    offset = 0
    for i, graph in enumerate(graphs):
        risks.append(monte_carlo_risk(graph, prob[offset: offset + graph.num_edges], config.risk_trials,
                                      seed=config.seed + i))
        offset += graph.num_edges
    return torch.from_numpy(np.concatenate(risks).astype(np.float32))


def _distill_node_risk(model: AttackPathModel, train_graphs: list[AttackGraphData], train: EncodedGraph,
                       val_graphs: list[AttackGraphData], val: EncodedGraph, config: TrainConfig) -> dict[str, float]:
    """Fit the node-risk head to the Monte Carlo risk over the model's own edge probabilities (encoder frozen)."""
    device = train.x.device
    train_target = _risk_targets(model, train_graphs, train, config).to(device)
    val_target = _risk_targets(model, val_graphs, val, config).to(device)
    with torch.no_grad():
        model.eval()
        h_train = model.encode(train.x, train.edge_index, train.edge_attr)
        h_val = model.encode(val.x, val.edge_index, val.edge_attr)
    head = model.node_head
    optimizer = torch.optim.Adam(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    best_loss, best_state, stale = math.inf, None, 0
    for _ in range(config.epochs):
        head.train()
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model.node_logits(h_train), train_target)
        loss.backward()
        optimizer.step()
        head.eval()
        with torch.no_grad():
            val_loss = float(torch.nn.functional.binary_cross_entropy_with_logits(model.node_logits(h_val), val_target))
        if val_loss < best_loss:
            best_loss, stale = val_loss, 0
            best_state = {k: v.detach().clone() for k, v in head.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    if best_state is not None:
        head.load_state_dict(best_state)
    head.eval()
    with torch.no_grad():
        predicted = torch.sigmoid(model.node_logits(h_val)).cpu().numpy()
    truth = val_target.cpu().numpy()
    correlation = (metric_fns.risk_score_correlation(predicted, truth) if len(truth) >= 2 else math.nan)
    return {"val_risk_head_loss": best_loss, "val_risk_head_correlation": correlation}


# -- prediction ---------------------------------------------------------------------------------------------


@torch.no_grad()
def predict(model: AttackPathModel, spec: FeatureSpec, data: AttackGraphData, *, node_risk: str = "monte_carlo",
            n_trials: int = 1024, seed: int = 0, device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Score a graph: exploit probability per edge and risk per node.

    Args:
        model: trained model.
        spec: the feature spec it was trained with.
        data: the graph to score.
        node_risk: ``monte_carlo`` (attacker simulation over the predicted edge probabilities; the reference) or
            ``head`` (the distilled node-risk head; one forward pass).
        n_trials: Monte Carlo trials.
        seed: Monte Carlo seed.
        device: where the forward pass runs.

    Returns:
        ``(edge_prob, node_risk)``: float64 arrays of shape (E,) and (N,).

    Raises:
        ValueError: an unknown ``node_risk`` method.
    """
    if node_risk not in ("monte_carlo", "head"):
        raise ValueError(f"node_risk must be 'monte_carlo' or 'head', got {node_risk!r}")
    edge_prob, head_risk = score_graph(model, spec, data, device)
    if node_risk == "head":
        risk = head_risk
        risk[data.entry_mask] = 1.0
    else:
        risk = monte_carlo_risk(data, edge_prob, n_trials, seed)
    return edge_prob, risk


@torch.no_grad()
def score_graph(model: AttackPathModel, spec: FeatureSpec, data: AttackGraphData,
             device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """One forward pass over a whole graph (feature encoding included).

    Args:
        model: trained model.
        spec: its feature spec.
        data: the graph.
        device: where the forward pass runs.

    Returns:
        ``(edge_prob, head_risk)``: sigmoid of the edge logits (E,) and of the node-risk head (N,), float64.
    """
    model.eval()
    x, edge_attr = spec.encode(data)
    edge_index = torch.from_numpy(np.stack([data.edge_src, data.edge_dst])).long()
    x, edge_attr, edge_index = x.to(device), edge_attr.to(device), edge_index.to(device)
    edge_logits, node_logits = model(x, edge_index, edge_attr)
    return (torch.sigmoid(edge_logits).cpu().numpy().astype(np.float64),
            torch.sigmoid(node_logits).cpu().numpy().astype(np.float64))


# -- persistence --------------------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _nan_back(value: Any) -> Any:
    return math.nan if value is None else value


def _safetensors() -> Any:
    try:
        from safetensors import torch as safetensors_torch
    except ImportError:
        return None
    return safetensors_torch


def save_model(result: TrainResult, directory: str | Path) -> Path:
    """Write a trained model: weights (tensors only) + ``config.json``.

    Weights go to ``weights.safetensors`` when the ``safetensors`` package is installed, else ``weights.pt``
    (``torch.save`` of the state dict: tensors only, loadable with ``weights_only=True``). ``config.json`` holds the
    format version, model type, layer sizes, hyperparameters, feature spec, mapping name, label counts, metrics and
    training history.

    Args:
        result: what `fit` returned.
        directory: target directory (created).

    Returns:
        The directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()}
    backend = _safetensors()
    if backend is not None:
        backend.save_file(state, str(directory / SAFETENSORS_FILE))
        weights = SAFETENSORS_FILE
    else:
        torch.save(state, directory / WEIGHTS_FILE)
        weights = WEIGHTS_FILE
    document = {
        "format": MODEL_FORMAT,
        "version": MODEL_FORMAT_VERSION,
        "weights": weights,
        "model_type": result.config.model_type,
        "in_dim": result.spec.node_dim,
        "edge_dim": result.spec.edge_dim,
        "hyperparameters": result.config.to_dict(),
        "feature_spec": result.spec.to_dict(),
        "mapping": result.mapping,
        "label_counts": result.label_counts,
        "metrics": result.metrics,
        "best_epoch": result.best_epoch,
        "epochs_to_convergence": result.epochs_to_convergence,
        "epochs_run": result.epochs_run,
        "training_seconds": result.training_seconds,
        "mini_batch": result.mini_batch,
        "history": result.history,
    }
    (directory / CONFIG_FILE).write_text(json.dumps(_json_safe(document), indent=1, sort_keys=True) + "\n",
                                         encoding="utf-8")
    log.info("saved %s model to %s", result.config.model_type, directory)
    return directory


def load_model(directory: str | Path) -> TrainResult:
    """Load a model written by `save_model` (weights with ``weights_only=True``: no pickled code runs).

    Args:
        directory: the model directory.

    Returns:
        A `TrainResult` with the model on CPU in eval mode.

    Raises:
        FileNotFoundError: ``config.json`` or the weights file is missing.
        ValueError: not a gnn-neo4j model of a supported version, or weights that do not fit the config.
    """
    directory = Path(directory)
    document = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    if document.get("format") != MODEL_FORMAT or document.get("version") != MODEL_FORMAT_VERSION:
        raise ValueError(f"{directory / CONFIG_FILE} is not a {MODEL_FORMAT} v{MODEL_FORMAT_VERSION} config")
    config = TrainConfig.from_dict({**document["hyperparameters"], "device": "cpu"})
    spec = FeatureSpec.from_dict(document["feature_spec"])
    if spec.node_dim != document["in_dim"] or spec.edge_dim != document["edge_dim"]:
        raise ValueError(f"{directory}: feature spec widths do not match in_dim/edge_dim")
    weights_path = directory / document.get("weights", WEIGHTS_FILE)
    if weights_path.suffix == ".safetensors":
        backend = _safetensors()
        if backend is None:
            raise ValueError(f"{weights_path} needs the safetensors package")
        state = backend.load_file(str(weights_path))
    else:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    model = build_model(config, spec)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{weights_path}: weights do not fit the configured model: {exc}") from exc
    model.eval()
    metrics = {k: _nan_back(v) for k, v in document.get("metrics", {}).items()}
    history = [{k: _nan_back(v) for k, v in row.items()} for row in document.get("history", [])]
    return TrainResult(model=model, spec=spec, config=config, history=history,
                       best_epoch=int(document.get("best_epoch", 0)),
                       epochs_to_convergence=int(document.get("epochs_to_convergence", 0)),
                       epochs_run=int(document.get("epochs_run", 0)),
                       training_seconds=float(document.get("training_seconds") or 0.0),
                       label_counts=dict(document.get("label_counts", {})), metrics=metrics,
                       mapping=str(document.get("mapping", "")), mini_batch=bool(document.get("mini_batch", False)))
