from __future__ import annotations

import numpy as np

from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.scoring import rank_paths


def _chain() -> AttackGraphData:
    # e -> a -> j (0.9 * 0.5 = 0.45), e -> b -> j (0.6 * 0.6 = 0.36), e -> j (0.3); j also reachable e->a->b->j
    ids = np.array(["e", "a", "b", "j"], dtype=object)
    src = np.array([0, 1, 0, 2, 0, 1])
    dst = np.array([1, 3, 2, 3, 3, 2])
    n = len(src)
    return AttackGraphData(
        node_ids=ids, node_kind=np.array(["Host"] * 4, dtype=object), node_props={},
        edge_src=src, edge_dst=dst, edge_type=np.array(["CAN_REACH"] * n, dtype=object), edge_props={},
        edge_label=np.full(n, np.nan), edge_feedback=np.full(n, np.nan),
        entry_mask=np.array([True, False, False, False]), crown_mask=np.array([False, False, False, True]),
        mapping="test",
    )


def test_rank_paths_orders_by_probability_and_names_nodes():
    data = _chain()
    prob = np.array([0.9, 0.5, 0.6, 0.6, 0.3, 0.1])
    paths = rank_paths(data, prob, k=3, max_hops=4)
    assert [(p.node_ids, p.rank) for p in paths] == [
        (("e", "a", "j"), 1), (("e", "b", "j"), 2), (("e", "j"), 3)]
    assert np.allclose([p.score for p in paths], [0.45, 0.36, 0.3])
    assert all(p.rel_types == ("CAN_REACH",) * p.hops for p in paths)


def test_hop_bound_applies():
    paths = rank_paths(_chain(), np.array([0.9, 0.5, 0.6, 0.6, 0.3, 0.1]), k=5, max_hops=1)
    assert [p.node_ids for p in paths] == [("e", "j")]
