"""Write scores back into Neo4j as a generation that becomes visible only when complete.

Contract (DESIGN.md "Write-back"):

* nodes: ``gnn_risk``, ``gnn_risk_rank``, ``gnn_generation``, ``gnn_model_version``, ``gnn_scored_at``;
* attack edges: ``gnn_exploit_prob``;
* ``(:Asset)-[:ATTACK_PATH {rank, score, hops, node_ids, rel_types, generation, model_version, scored_at}]->(:Asset)``;
* ``(:GnnRun {generation, status, started_at, finished_at, model_version, counts, metrics})``.

How a run stays invisible until it is complete, and a failure loses nothing:

1. `begin_run` creates ``GnnRun {generation: N, status: 'running'}`` (N = newest + 1).
2. `stage_scores` writes the new values into *staging* properties (``gnn_staged_*``) in batches, and creates the
   new ATTACK_PATH relationships with ``generation: N``. Readers (the ``gnn.*`` procedures, the Browser queries)
   look only at the newest complete generation, so nothing they see changes.
3. `commit_run` swaps staging into the live properties and marks the run complete in ONE transaction: readers
   see the old generation or the new one, never a mix.
4. `cleanup` then removes what we own from older generations (their ATTACK_PATHs, the scores of assets that
   were not scored again), in bounded batches.
5. `fail_run` (or the next `begin_run` after a killed run) marks the run failed/abandoned and removes its staged
   values and paths; the previous generation was never touched.

Cypher values always travel as parameters; the only identifiers in query text come from the validated mapping.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

import numpy as np

from gnn_neo4j.db import GraphRunner
from gnn_neo4j.mapping import Mapping

log = logging.getLogger(__name__)

CLEANUP_BATCH = 10_000
STAGED_NODE_PROPS = ("gnn_staged_risk", "gnn_staged_rank", "gnn_staged_generation", "gnn_staged_model_version",
                     "gnn_staged_scored_at")


@dataclass(frozen=True)
class RunStamp:
    """Identity of one scoring run; every write carries it."""

    generation: int
    model_version: str
    scored_at: str


@dataclass(frozen=True)
class ScoredPath:
    """One ranked path from an entry point to a crown jewel, by node ids."""

    node_ids: tuple[str, ...]
    rel_types: tuple[str, ...]
    score: float
    rank: int

    @property
    def hops(self) -> int:
        return len(self.rel_types)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def current_generation(runner: GraphRunner) -> int | None:
    """The newest complete generation, or None."""
    rows = runner.read("MATCH (r:GnnRun {status: 'complete'}) RETURN max(r.generation) AS g")
    return rows[0]["g"] if rows else None


def begin_run(runner: GraphRunner, mapping: Mapping, model_version: str) -> RunStamp:
    """Abandon leftovers of killed runs, then create the next ``GnnRun`` with status 'running'."""
    for row in runner.read("MATCH (r:GnnRun) WHERE r.status = 'running' RETURN r.generation AS g"):
        log.warning("generation %s was left running (killed run); abandoning it", row["g"])
        _discard(runner, mapping, row["g"], "abandoned")
    stamp_time = now_iso()
    rows = runner.write(
        "OPTIONAL MATCH (r:GnnRun) WITH coalesce(max(r.generation), 0) + 1 AS next "
        "CREATE (run:GnnRun {generation: next, status: 'running', started_at: $at, model_version: $mv}) "
        "RETURN run.generation AS generation",
        {"at": stamp_time, "mv": model_version},
    )
    return RunStamp(rows[0]["generation"], model_version, stamp_time)


def stage_scores(
    runner: GraphRunner,
    mapping: Mapping,
    stamp: RunStamp,
    node_ids: Sequence[str],
    node_risk: np.ndarray,
    edges: Sequence[tuple[str, str, str]],
    edge_prob: np.ndarray,
    paths: Sequence[ScoredPath],
    batch_size: int | None = None,
) -> dict[str, int]:
    """Write the run's scores into staging properties and its ATTACK_PATHs (invisible until `commit_run`).

    Args:
        node_ids: asset ids, aligned with ``node_risk`` (0..1).
        edges: (source id, relationship type, target id) of scored attack edges, aligned with ``edge_prob``.
        paths: ranked entry-point -> crown-jewel paths.
    Returns:
        counts of nodes, edges and paths written.
    """
    risk = np.asarray(node_risk, dtype=float)
    if len(risk) != len(node_ids) or len(edge_prob) != len(edges):
        raise ValueError("scores and ids are not aligned")
    if np.any(~np.isfinite(risk)) or np.any((risk < 0) | (risk > 1)):
        raise ValueError("node risk must be finite probabilities in [0, 1]")
    order = np.argsort(-risk, kind="stable")
    rank = np.empty(len(risk), dtype=np.int64)
    rank[order] = np.arange(1, len(risk) + 1)
    key, id_prop = mapping.key_label, mapping.id_property
    params = {"g": stamp.generation, "mv": stamp.model_version, "at": stamp.scored_at}
    nodes = runner.write_batches(
        f"UNWIND $rows AS row MATCH (n:`{key}` {{`{id_prop}`: row.id}}) "
        "SET n.gnn_staged_risk = row.risk, n.gnn_staged_rank = row.rank, n.gnn_staged_generation = $g, "
        "n.gnn_staged_model_version = $mv, n.gnn_staged_scored_at = $at",
        ({"id": str(i), "risk": float(r), "rank": int(k)} for i, r, k in zip(node_ids, risk, rank)),
        batch_size, params,
    )
    by_type: dict[str, list[dict[str, Any]]] = {}
    for (src, rel_type, dst), prob in zip(edges, np.asarray(edge_prob, dtype=float)):
        by_type.setdefault(rel_type, []).append({"src": str(src), "dst": str(dst), "p": float(prob)})
    edge_count = 0
    for rel_type, rows in by_type.items():
        mapping.attack_relationship(rel_type)  # only the mapping's types reach the query text
        edge_count += runner.write_batches(
            f"UNWIND $rows AS row MATCH (a:`{key}` {{`{id_prop}`: row.src}})-[r:`{rel_type}`]->(b:`{key}` {{`{id_prop}`: row.dst}}) "
            "SET r.gnn_staged_exploit_prob = row.p, r.gnn_staged_generation = $g",
            rows, batch_size, params,
        )
    path_rows = [
        {"src": p.node_ids[0], "dst": p.node_ids[-1], "rank": p.rank, "score": float(p.score), "hops": p.hops,
         "node_ids": list(p.node_ids), "rel_types": list(p.rel_types)}
        for p in paths
    ]
    path_count = runner.write_batches(
        f"UNWIND $rows AS row MATCH (a:`{key}` {{`{id_prop}`: row.src}}) MATCH (b:`{key}` {{`{id_prop}`: row.dst}}) "
        "CREATE (a)-[:ATTACK_PATH {rank: row.rank, score: row.score, hops: row.hops, node_ids: row.node_ids, "
        "rel_types: row.rel_types, generation: $g, model_version: $mv, scored_at: $at}]->(b)",
        path_rows, batch_size, params,
    )
    return {"nodes": nodes, "edges": edge_count, "paths": path_count}


def commit_run(runner: GraphRunner, mapping: Mapping, stamp: RunStamp, counts: dict[str, Any],
               metrics: dict[str, Any]) -> None:
    """Swap staged scores live and mark the run complete - one transaction, so readers never see a mix."""
    key = mapping.key_label
    with runner.transaction() as tx:
        tx.run(
            f"MATCH (n:`{key}`) WHERE n.gnn_staged_generation = $g "
            "SET n.gnn_risk = n.gnn_staged_risk, n.gnn_risk_rank = n.gnn_staged_rank, n.gnn_generation = $g, "
            "n.gnn_model_version = n.gnn_staged_model_version, n.gnn_scored_at = n.gnn_staged_scored_at "
            "REMOVE n.gnn_staged_risk, n.gnn_staged_rank, n.gnn_staged_generation, n.gnn_staged_model_version, "
            "n.gnn_staged_scored_at",
            g=stamp.generation,
        ).consume()
        for rel_type in mapping.rel_types:
            tx.run(
                f"MATCH ()-[r:`{rel_type}`]->() WHERE r.gnn_staged_generation = $g "
                "SET r.gnn_exploit_prob = r.gnn_staged_exploit_prob REMOVE r.gnn_staged_exploit_prob, r.gnn_staged_generation",
                g=stamp.generation,
            ).consume()
        tx.run(
            "MATCH (r:GnnRun {generation: $g}) SET r.status = 'complete', r.finished_at = $at, "
            "r.counts = $counts, r.metrics = $metrics",
            g=stamp.generation, at=now_iso(), counts=json.dumps(counts, sort_keys=True),
            metrics=json.dumps(metrics, sort_keys=True, default=_json_default),
        ).consume()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def cleanup(runner: GraphRunner, mapping: Mapping, stamp: RunStamp, keep_runs: int = 20) -> dict[str, int]:
    """After ``stamp`` is complete: remove older generations' paths and stale scores, in bounded batches."""
    if current_generation(runner) != stamp.generation:
        raise RuntimeError(f"cleanup refused: generation {stamp.generation} is not the current complete one")
    key = mapping.key_label
    removed = {"paths": 0, "node_scores": 0}
    removed["paths"] = _batched(runner, "MATCH ()-[p:ATTACK_PATH]->() WHERE p.generation < $g WITH p LIMIT $n DELETE p", stamp.generation)
    removed["node_scores"] = _batched(
        runner,
        f"MATCH (n:`{key}`) WHERE n.gnn_generation < $g WITH n LIMIT $n "
        "REMOVE n.gnn_risk, n.gnn_risk_rank, n.gnn_generation, n.gnn_model_version, n.gnn_scored_at",
        stamp.generation,
    )
    runner.write(
        "MATCH (r:GnnRun) WHERE r.generation < $g WITH r ORDER BY r.generation DESC SKIP $keep DETACH DELETE r",
        {"g": stamp.generation, "keep": keep_runs},
    )
    return removed


def fail_run(runner: GraphRunner, mapping: Mapping, stamp: RunStamp, reason: str) -> None:
    """Mark the run failed and remove everything it staged; the previous generation stays as it was."""
    _discard(runner, mapping, stamp.generation, "failed", reason)


def _discard(runner: GraphRunner, mapping: Mapping, generation: int, status: str, reason: str = "") -> None:
    key = mapping.key_label
    _batched(runner, "MATCH ()-[p:ATTACK_PATH]->() WHERE p.generation = $g WITH p LIMIT $n DELETE p", generation)
    _batched(
        runner,
        f"MATCH (n:`{key}`) WHERE n.gnn_staged_generation = $g WITH n LIMIT $n REMOVE "
        + ", ".join(f"n.{p}" for p in STAGED_NODE_PROPS),
        generation,
    )
    for rel_type in mapping.rel_types:
        _batched(
            runner,
            f"MATCH ()-[r:`{rel_type}`]->() WHERE r.gnn_staged_generation = $g WITH r LIMIT $n "
            "REMOVE r.gnn_staged_exploit_prob, r.gnn_staged_generation",
            generation,
        )
    runner.write(
        "MATCH (r:GnnRun {generation: $g}) WHERE r.status <> 'complete' "
        "SET r.status = $status, r.finished_at = $at, r.error = $reason",
        {"g": generation, "status": status, "at": now_iso(), "reason": reason[:2000]},
    )


def _batched(runner: GraphRunner, query: str, generation: int) -> int:
    """Run a ``... LIMIT $n`` mutation until it touches nothing; each batch its own transaction."""
    total = 0
    counted = query + " RETURN count(*) AS c"
    while True:
        done = runner.write(counted, {"g": generation, "n": CLEANUP_BATCH})[0]["c"]
        total += done
        if done < CLEANUP_BATCH:
            return total
