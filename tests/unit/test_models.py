"""AttackPathModel: shapes, argument checks, and that information flows along attack direction only."""

from __future__ import annotations

import pytest
import torch

from gnn_neo4j.models import AttackPathModel, GATEncoder, GraphSAGEEncoder

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _open_gates(model: AttackPathModel) -> None:
    """Gates start at 0 (pure node features); open them so message passing is visible."""
    with torch.no_grad():
        model.encoder.gates.fill_(1.0)


@pytest.mark.parametrize("model_type", ["graphsage", "gat"])
def test_shapes(model_type):
    torch.manual_seed(0)
    x = torch.randn(7, 5)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6]])
    relation = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 0, 1, 2]), 3).float()
    edge_attr = torch.cat([relation, torch.randn(6, 2)], dim=1)
    model = AttackPathModel(model_type, in_dim=5, edge_dim=5, hidden_dim=8, num_layers=2, dropout=0.1, num_heads=2,
                            num_relations=3)
    edge_logits, node_logits = model(x, edge_index, edge_attr)
    assert edge_logits.shape == (6,) and node_logits.shape == (7,)
    h = model.encode(x, edge_index, edge_attr)
    assert h.shape == (7, 8)
    assert model.edge_logits(h, x, edge_index[:, :2], edge_attr[:2]).shape == (2,)


def test_argument_checks():
    with pytest.raises(ValueError, match="unknown model type"):
        AttackPathModel("gcn", 4, 3)
    with pytest.raises(ValueError, match="divisible"):
        AttackPathModel("gat", 4, 3, hidden_dim=10, num_heads=4)
    with pytest.raises(ValueError, match="num_layers"):
        GraphSAGEEncoder(4, 3, 8, 0, 0.1)
    with pytest.raises(ValueError, match="num_relations"):
        AttackPathModel("graphsage", 4, 3, num_relations=5)
    assert isinstance(AttackPathModel("gat", 4, 3, hidden_dim=8, num_heads=2).encoder, GATEncoder)


@pytest.mark.parametrize("model_type", ["graphsage", "gat"])
def test_information_flows_from_source_to_target_only(model_type):
    """Chain 0 -> 1 -> 2 -> 3: a node's embedding depends on its attack predecessors, never its successors."""
    torch.manual_seed(1)
    model = AttackPathModel(model_type, in_dim=4, edge_dim=2, hidden_dim=8, num_layers=2, dropout=0.0, num_heads=2,
                            num_relations=2)
    _open_gates(model)
    model.eval()
    x = torch.randn(4, 4)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    edge_attr = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    with torch.no_grad():
        base = model.encode(x, edge_index, edge_attr)
        changed_source = x.clone()
        changed_source[0] += 3.0
        after_source = model.encode(changed_source, edge_index, edge_attr)
        changed_sink = x.clone()
        changed_sink[3] += 3.0
        after_sink = model.encode(changed_sink, edge_index, edge_attr)

    def moved(a, b, node):
        return not torch.allclose(a[node], b[node], atol=1e-6)

    # node 0's foothold reaches 1 (one hop) and 2 (two hops), not 3 (three hops > num_layers)
    assert moved(base, after_source, 0) and moved(base, after_source, 1) and moved(base, after_source, 2)
    assert not moved(base, after_source, 3)
    # nothing flows backwards from the sink
    assert moved(base, after_sink, 3)
    assert not any(moved(base, after_sink, v) for v in (0, 1, 2))


def test_gates_start_closed_so_untrained_embeddings_are_local():
    torch.manual_seed(2)
    model = AttackPathModel("graphsage", in_dim=4, edge_dim=2, hidden_dim=8, num_layers=2, dropout=0.0,
                            num_relations=2)
    model.eval()
    x = torch.randn(3, 4)
    edge_index = torch.tensor([[0, 1], [1, 2]])
    edge_attr = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    with torch.no_grad():
        base = model.encode(x, edge_index, edge_attr)
        changed = x.clone()
        changed[0] += 3.0
        after = model.encode(changed, edge_index, edge_attr)
    assert torch.allclose(base[1:], after[1:])
    assert model.encoder.gates.requires_grad


def test_edge_scorer_is_chosen_by_relationship_type():
    """Two edges with identical endpoints and features but different types get their own scorer."""
    torch.manual_seed(3)
    model = AttackPathModel("graphsage", in_dim=3, edge_dim=2, hidden_dim=8, num_layers=1, dropout=0.0,
                            num_relations=2)
    model.eval()
    x = torch.randn(2, 3)
    edge_index = torch.tensor([[0, 0], [1, 1]])
    edge_attr = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    with torch.no_grad():
        logits, _ = model(x, edge_index, edge_attr)
        deep = model.edge_head.deep(torch.cat([model.encode(x, edge_index, edge_attr)[[0, 0]],
                                               model.encode(x, edge_index, edge_attr)[[1, 1]], edge_attr], dim=-1))
        wide = model.edge_head.wide(torch.cat([x[[0, 0]], x[[1, 1]], edge_attr], dim=-1))
    expected = torch.stack([deep[0, 0] + wide[0, 0], deep[1, 1] + wide[1, 1]])
    assert torch.allclose(logits, expected, atol=1e-6)
