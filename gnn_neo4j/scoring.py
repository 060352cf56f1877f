"""Turn predicted edge probabilities into ranked entry-point -> crown-jewel paths (pure, no I/O)."""

from __future__ import annotations

import numpy as np

from gnn_neo4j.dataset import AttackGraphData
from gnn_neo4j.paths import AttackGraph
from gnn_neo4j.writeback import ScoredPath


def rank_paths(data: AttackGraphData, edge_prob: np.ndarray, k: int = 5, max_hops: int = 8) -> list[ScoredPath]:
    """The ``k`` most probable paths from any entry point to each crown jewel, ranked per crown jewel.

    Path score = product of the edge probabilities along the path (Yen's algorithm on ``-log p``, hop bounded).
    Zero-hop "paths" (a crown jewel that is itself an entry point) are left out: there is nothing to draw.

    Returns:
        ScoredPath list, crown jewels in node order, rank 1 = most probable path to that crown jewel.
    """
    graph = AttackGraph(data.num_nodes, data.edge_src, data.edge_dst, np.asarray(edge_prob, dtype=float),
                        rel_types=data.edge_type.tolist())
    by_target = graph.top_paths_to_targets(data.entry_points, data.crown_jewels, k, max_hops)
    ranked: list[ScoredPath] = []
    for target in sorted(by_target):
        rank = 0
        for path in by_target[target]:
            if path.hops == 0:
                continue
            rank += 1
            ranked.append(ScoredPath(
                node_ids=tuple(str(data.node_ids[i]) for i in path.nodes),
                rel_types=tuple(str(data.edge_type[e]) for e in path.edges),
                score=float(path.probability),
                rank=rank,
            ))
    return ranked
