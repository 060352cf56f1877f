"""GNN modules for attack-path scoring: GraphSAGE / GAT encoders, an edge-exploitability head, a node-risk head.

Direction: an attacker's foothold flows from an edge's source to its target, so every encoder passes messages along
``edge_index`` as given (PyG's default ``source_to_target`` flow aggregates at each node the messages of its
*in*-neighbours). A node's embedding therefore summarises the attack-graph context that leads *into* it.

The modules are thin compositions of `torch_geometric.nn` building blocks; hyperparameters are constructor
arguments, nothing is global, and the caller chooses the device.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import GATv2Conv, SAGEConv

MODEL_TYPES = ("graphsage", "gat")


class _Encoder(nn.Module):
    """Shared shape: input projection, ``num_layers`` gated residual message-passing layers, jumping knowledge.

    Each layer adds its message-passing update through a learnable gate that starts at 0
    (``h <- h + alpha_l * relu(norm(conv(h)))``), so training starts from the node's own features and lets in as
    much in-neighbourhood context as the loss rewards. The output concatenates the input projection with every
    layer's output and projects it back to ``hidden_dim``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.dropout = dropout
        self.input = nn.Linear(in_dim, hidden_dim)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_dim) for _ in range(num_layers))
        self.gates = nn.Parameter(torch.zeros(num_layers))
        self.jump = nn.Linear(hidden_dim * (num_layers + 1), hidden_dim)

    def _conv(self, conv: nn.Module, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None) -> Tensor:
        """Node embeddings of shape (N, hidden_dim)."""
        h = torch.relu(self.input(x))
        outputs = [h]
        for layer, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            update = self._conv(conv, nn.functional.dropout(h, self.dropout, self.training), edge_index, edge_attr)
            h = h + self.gates[layer] * torch.relu(norm(update))
            outputs.append(h)
        return torch.relu(self.jump(torch.cat(outputs, dim=-1)))


class GraphSAGEEncoder(_Encoder):
    """GraphSAGE encoder (mean aggregation over in-neighbours plus a root weight per layer).

    Args:
        in_dim: node feature width.
        edge_dim: edge feature width (SAGE messages do not use it; accepted so both encoders share a signature).
        hidden_dim: embedding width.
        num_layers: message-passing layers (hops of context).
        dropout: dropout before each layer.
    """

    def __init__(self, in_dim: int, edge_dim: int, hidden_dim: int, num_layers: int, dropout: float) -> None:
        super().__init__(in_dim, hidden_dim, num_layers, dropout)
        self.edge_dim = edge_dim
        for _ in range(num_layers):
            self.convs.append(SAGEConv(hidden_dim, hidden_dim, aggr="mean", root_weight=True))

    def _conv(self, conv: nn.Module, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> Tensor:
        return conv(h, edge_index)


class GATEncoder(_Encoder):
    """GATv2 encoder: attention over in-neighbours, conditioned on the edge features, heads concatenated.

    Args:
        in_dim: node feature width.
        edge_dim: edge feature width (enters the attention scores).
        hidden_dim: embedding width; must be divisible by ``num_heads``.
        num_layers: message-passing layers.
        dropout: dropout before each layer and on attention coefficients.
        num_heads: attention heads.

    Raises:
        ValueError: ``hidden_dim`` not divisible by ``num_heads``.
    """

    def __init__(self, in_dim: int, edge_dim: int, hidden_dim: int, num_layers: int, dropout: float,
                 num_heads: int = 4) -> None:
        super().__init__(in_dim, hidden_dim, num_layers, dropout)
        if num_heads < 1 or hidden_dim % num_heads:
            raise ValueError(f"hidden_dim ({hidden_dim}) must be divisible by num_heads ({num_heads})")
        for _ in range(num_layers):
            # No self-loops: the residual connection carries the node's own state, so attention is only over
            # real in-neighbours (attack edges into the node).
            self.convs.append(GATv2Conv(hidden_dim, hidden_dim // num_heads, heads=num_heads, concat=True,
                                        edge_dim=edge_dim, dropout=dropout, add_self_loops=False))

    def _conv(self, conv: nn.Module, h: Tensor, edge_index: Tensor, edge_attr: Tensor | None) -> Tensor:
        return conv(h, edge_index, edge_attr=edge_attr)


class EdgeHead(nn.Module):
    """Edge-exploitability head: a per-relationship-type "wide and deep" scorer.

    ``logit = deep_r([h_src, h_dst, edge_attr]) + wide_r([x_src, x_dst, edge_attr])`` where ``r`` is the edge's
    relationship type: the deep part is an MLP with one output per type, the wide part a linear model per type over
    the raw encoded features (attack techniques differ per relationship type; most of their evidence is additive).
    The type is read from the first ``num_relations`` columns of ``edge_attr`` (the relationship one-hot of
    `gnn_neo4j.features.FeatureSpec`).
    """

    def __init__(self, hidden_dim: int, in_dim: int, edge_dim: int, num_relations: int, dropout: float) -> None:
        super().__init__()
        if not 1 <= num_relations <= edge_dim:
            raise ValueError(f"num_relations must lie in [1, edge_dim={edge_dim}], got {num_relations}")
        self.num_relations = num_relations
        self.deep = nn.Sequential(
            nn.Linear(2 * hidden_dim + edge_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, num_relations),
        )
        self.wide = nn.Linear(2 * in_dim + edge_dim, num_relations, bias=False)

    def forward(self, h_src: Tensor, h_dst: Tensor, x_src: Tensor, x_dst: Tensor, edge_attr: Tensor) -> Tensor:
        relation = edge_attr[:, : self.num_relations]
        deep = self.deep(torch.cat([h_src, h_dst, edge_attr], dim=-1))
        wide = self.wide(torch.cat([x_src, x_dst, edge_attr], dim=-1))
        return ((deep + wide) * relation).sum(dim=-1)


class AttackPathModel(nn.Module):
    """Encoder + edge-exploitability head + node-risk head.

    The edge head scores an edge from ``[h_src, h_dst, edge_attr]`` (plus a per-type linear term on the raw
    features, see `EdgeHead`); the node-risk head scores a node from ``h``. Both return logits.

    Args:
        model_type: ``graphsage`` or ``gat``.
        in_dim: node feature width.
        edge_dim: edge feature width.
        hidden_dim: embedding width.
        num_layers: message-passing layers.
        dropout: dropout rate.
        num_heads: attention heads (GAT only).
        num_relations: width of the relationship-type one-hot at the start of ``edge_attr`` (one edge scorer per
            type); 1 shares one scorer across types.

    Raises:
        ValueError: unknown model type or invalid sizes.
    """

    def __init__(self, model_type: str, in_dim: int, edge_dim: int, hidden_dim: int = 64, num_layers: int = 2,
                 dropout: float = 0.2, num_heads: int = 4, num_relations: int = 1) -> None:
        super().__init__()
        if model_type not in MODEL_TYPES:
            raise ValueError(f"unknown model type {model_type!r}; known: {', '.join(MODEL_TYPES)}")
        self.model_type = model_type
        if model_type == "graphsage":
            self.encoder: _Encoder = GraphSAGEEncoder(in_dim, edge_dim, hidden_dim, num_layers, dropout)
        else:
            self.encoder = GATEncoder(in_dim, edge_dim, hidden_dim, num_layers, dropout, num_heads)
        self.edge_head = EdgeHead(hidden_dim, in_dim, edge_dim, num_relations, dropout)
        self.node_head = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(),
            nn.Linear(hidden_dim, 1),
        )

    def encode(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """Node embeddings (N, hidden_dim) from message passing along ``edge_index``."""
        return self.encoder(x, edge_index, edge_attr)

    def edge_logits(self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        """Exploitability logit per edge of ``edge_index`` (shape (E,)); ``x`` are the raw node features."""
        src, dst = edge_index
        return self.edge_head(h[src], h[dst], x[src], x[dst], edge_attr)

    def node_logits(self, h: Tensor) -> Tensor:
        """Node-risk logit per node (shape (N,))."""
        return self.node_head(h).squeeze(-1)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> tuple[Tensor, Tensor]:
        """Score every edge and node of a graph: ``(edge_logits (E,), node_logits (N,))``."""
        h = self.encode(x, edge_index, edge_attr)
        return self.edge_logits(h, x, edge_index, edge_attr), self.node_logits(h)
