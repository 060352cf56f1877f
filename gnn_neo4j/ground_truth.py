"""Hidden ground truth of a synthetic environment: what the model must learn, kept away from Neo4j.

Three things are true in a synthetic world and never written into the graph:

- the **exploit probability** of every attack edge (`exploit_probability`, a fixed nonlinear function of the
  edge's own properties, its endpoints' properties, their attack-graph degrees and a hidden per-node hardening
  factor);
- the **compromise probability** of every asset node: the chance that an attacker holding every entry point
  reaches it, estimated by a vectorised Monte Carlo simulation (`simulate_compromise`; exact enumeration for
  tiny graphs in `compromise_probability_exact`);
- the **top-K attack paths** per crown jewel by true path probability (`true_top_paths`, exact, via
  `gnn_neo4j.paths.AttackGraph`).

`GroundTruth` bundles them and saves to a separate ``.npz`` + ``.json`` pair, never to Neo4j. The graph only
carries sampled outcomes (edge property ``exploited``) on a share of the attack edges.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from gnn_neo4j.paths import AttackGraph

log = logging.getLogger(__name__)

FORMAT_NAME = "gnn-neo4j-ground-truth"
FORMAT_VERSION = 1

ASSET_KINDS: tuple[str, ...] = (
    "LoadBalancer", "Host", "Container", "User", "Group", "Role", "ServiceAccount", "DataStore", "Secret",
)
"""Attack-participating node kinds; a node's ``kind`` code indexes this tuple."""

ATTACK_REL_TYPES: tuple[str, ...] = (
    "CAN_REACH", "HOSTS", "ESCAPES_TO", "HAS_SESSION", "STORES_CREDENTIAL", "MEMBER_OF", "ADMIN_TO",
    "CAN_ASSUME", "CAN_ACCESS",
)
"""Attack relationship types; an edge's ``rel`` code indexes this tuple."""

OS_VALUES: tuple[str, ...] = ("linux", "windows", "macos")
SESSION_TYPES: tuple[str, ...] = ("interactive", "rdp", "network", "service")
CREDENTIAL_TYPES: tuple[str, ...] = ("password", "ntlm_hash", "kerberos_ticket", "api_key", "ssh_key")
PERMISSIONS: tuple[str, ...] = ("read", "write", "admin")

HIDDEN_PROPERTY_NAMES: frozenset[str] = frozenset({
    "exploit_prob", "exploit_probability", "true_exploit_prob", "compromise_prob", "compromise_probability",
    "true_compromise_prob", "hardening", "outcome", "true_top_paths",
})
"""Names of hidden quantities; none of them (nor anything containing ``true_``) may appear on a graph."""

PROBABILITY_FLOOR = 0.01
PROBABILITY_CEILING = 0.99

# Ports on which a reachable service is an attack surface, with the hidden model's risk offset (logit units).
_PORT_RISK = {22: 0.5, 80: 0.3, 443: 0.0, 445: 0.9, 3306: 0.6, 3389: 0.8, 5432: 0.6, 6379: 0.9, 8080: 0.4,
              8443: 0.1, 27017: 0.8}
_WEB_PORTS = (80, 443, 8080, 8443)
_SESSION_EXPOSURE = np.array([1.0, 0.8, -1.2, 0.5])       # by SESSION_TYPES: cached reusable credentials
_CREDENTIAL_STRENGTH = np.array([1.0, 0.7, -0.3, 1.5, 1.1])  # by CREDENTIAL_TYPES: how directly usable
_PERMISSION_REACH = np.array([0.2, 0.8, 1.5])             # by PERMISSIONS

NODE_COLUMNS: tuple[str, ...] = (
    "kind", "os", "internet_exposed", "patch_age_days", "max_cvss", "epss_max", "vuln_count",
    "exploit_available", "edr_enabled", "critical", "privileged", "mfa_enabled", "password_age_days",
    "permissions_count", "encrypted", "waf_enabled", "run_as_root", "rotation_age_days", "hardening",
)
"""Columns `exploit_probability` reads from the node table (float arrays over all asset nodes, NaN where a
column does not apply to a node's kind; ``os`` is a code into OS_VALUES, booleans are 0/1)."""

EDGE_COLUMNS: tuple[str, ...] = ("port", "session_type", "credential_type", "permission", "requires_mfa")
"""Columns `exploit_probability` reads from the edge table (int arrays, -1 where not applicable)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def exploit_probability(
    rel: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    node: Mapping[str, np.ndarray],
    edge: Mapping[str, np.ndarray],
) -> np.ndarray:
    """The hidden true exploit probability of each attack edge.

    ``p = 0.01 + 0.98 * sigmoid(logit)``, with a logit per relationship type built from the edge's own properties,
    the properties of both endpoints, attack-graph degrees (in-degree of the target, out-degree of the source, over
    all attack edges), the neighbourhood ``watch(v)`` = (share of v's attack in-neighbours that run EDR, among those
    that have the property; 0.5 when none) - 0.5, and a hidden per-node ``hardening`` factor (unobservable noise,
    standard deviation about 0.4). ``watch`` is graph context: it needs every in-neighbour, not just the endpoints.
    Below, ``s`` is the source node, ``t`` the target, ``pressure(v) = 1 - exp(-4 * epss_max(v))``; an input a
    node's kind does not have counts as 0, except patch_age (60 days), password_age (90 days) and rotation_age
    (365 days); ``[x]`` is 1 when x holds, else 0; port_risk, exposure, strength and reach are the lookup tables
    ``_PORT_RISK``, ``_SESSION_EXPOSURE``, ``_CREDENTIAL_STRENGTH`` and ``_PERMISSION_REACH`` of this module::

        CAN_REACH          -2.2 + port_risk(port)                        (smb/redis/rdp high, https 0)
                           + 3.0 * pressure(t) * (1 - 0.6 * edr(t))      (EDR blunts exploitation)
                           + 1.5 * exploit_available(t) * sigmoid(2 * (max_cvss(t) - 8))
                           + 0.6 * log1p(patch_age(t) / 30) - 1.0        (stale patches)
                           - 1.2 * waf(s) * [port is a web port]         (a WAF on the fronting LB)
                           - 0.25 * log1p(in_degree(t))                  (busy services are watched)
                           + 0.3 * [t is a DataStore] - 2.5 * watch(t) - hardening(t)
        HOSTS              2.0 + 0.8 * run_as_root(t) + 0.6 * privileged(t) - 0.3 * hardening(t)
        ESCAPES_TO         -2.8 + 4.2 * privileged(s) + (1 - privileged(s)) * (
                               1.0 * run_as_root(s) + 1.6 * sigmoid((patch_age(t) - 150) / 40) - 1.3 * edr(t))
                           + 1.2 * exploit_available(s) * pressure(s) - hardening(t)
        HAS_SESSION        -0.2 + exposure(session_type)                 (network logons cache nothing reusable)
                           + 0.9 * [os(s) = windows]
                           - 2.2 * edr(s) * sigmoid((90 - patch_age(s)) / 30)   (stale sensors fail)
                           - 1.6 * mfa(t) + 0.35 * log1p(password_age(t) / 90) - 2.0 * watch(s)
                           - 0.5 * hardening(t)
        STORES_CREDENTIAL  -0.4 + strength(credential_type)
                           - 2.4 * mfa(t) * [password or hash]           (MFA defeats replayed secrets)
                           + 0.45 * log1p(password_age(t) / 120) - 0.9 * edr(s)
                           - 0.5 * privileged(t) - 2.0 * watch(s) - 0.5 * hardening(t)
        MEMBER_OF          3.2 - 1.2 * privileged(t) * mfa(s) - 0.2 * hardening(t)   (PAM step-up on admin groups)
        ADMIN_TO           1.0 + 0.7 * privileged(s) - 1.4 * mfa(s) + 0.6 * [os(t) = windows]
                           - 1.5 * edr(t) * critical(t) - 0.15 * log1p(out_degree(s)) - 2.5 * watch(t)
                           - hardening(t)
        CAN_ASSUME         1.3 - 2.6 * requires_mfa - 1.5 * requires_mfa * [s is a ServiceAccount or Role]
                           + 0.6 * privileged(s) + 0.5 * tanh(permissions_count(t) / 40)
                           - 0.8 * privileged(t) * (1 - privileged(s)) - 0.5 * hardening(t)
        CAN_ACCESS         -0.1 + reach(permission) - 1.3 * encrypted(t) * [permission = read]
                           - 0.7 * critical(t) + 0.5 * privileged(s) + 0.3 * log1p(in_degree(t))
                           - 0.6 * sigmoid((60 - rotation_age(t)) / 15) - 0.5 * hardening(t)
                           (a secret rotated in the last weeks is often stale in the attacker's hands)

    Args:
        rel: relationship code per edge (index into ATTACK_REL_TYPES), shape (E,).
        src: source node index per edge, shape (E,).
        dst: target node index per edge, shape (E,).
        node: node table with the NODE_COLUMNS.
        edge: edge table with the EDGE_COLUMNS.

    Returns:
        float64 array of shape (E,), values in [0.01, 0.99].

    Raises:
        KeyError: a required node or edge column is missing.
        ValueError: an unknown relationship code.
    """
    rel = np.asarray(rel, dtype=np.int64)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if len(rel) and (rel.min() < 0 or rel.max() >= len(ATTACK_REL_TYPES)):
        raise ValueError(f"relationship codes must lie in [0, {len(ATTACK_REL_TYPES)})")
    num_nodes = len(node["kind"])
    in_degree = np.bincount(dst, minlength=num_nodes).astype(np.float64)
    out_degree = np.bincount(src, minlength=num_nodes).astype(np.float64)

    def col(name: str, idx: np.ndarray, default: float = 0.0) -> np.ndarray:
        return np.nan_to_num(np.asarray(node[name], dtype=np.float64)[idx], nan=default)

    def pressure(idx: np.ndarray) -> np.ndarray:
        return 1.0 - np.exp(-4.0 * col("epss_max", idx))

    # Neighbourhood watch: the share of a node's attack-graph in-neighbours that run EDR (over those that can).
    # Lateral movement into or out of a node is caught more often when the peers around it report telemetry, so
    # the truth depends on the whole in-neighbourhood - graph context that neither endpoint's features reveal.
    edr = np.asarray(node["edr_enabled"], dtype=np.float64)
    known = np.isfinite(edr[src])
    counted = np.bincount(dst[known], minlength=num_nodes).astype(np.float64)
    watched = np.bincount(dst[known], weights=edr[src][known], minlength=num_nodes)
    watch = np.where(counted > 0, watched / np.maximum(counted, 1.0), 0.5) - 0.5

    windows = float(OS_VALUES.index("windows"))
    logit = np.zeros(len(rel), dtype=np.float64)
    for code, rel_type in enumerate(ATTACK_REL_TYPES):
        m = np.flatnonzero(rel == code)
        if not len(m):
            continue
        s, t = src[m], dst[m]
        hard_t = col("hardening", t)
        if rel_type == "CAN_REACH":
            port = np.asarray(edge["port"])[m]
            ports = np.array(sorted(_PORT_RISK))
            risks = np.array([_PORT_RISK[p] for p in ports])
            pos = np.clip(np.searchsorted(ports, port), 0, len(ports) - 1)
            port_risk = np.where(ports[pos] == port, risks[pos], 0.0)
            value = (
                -2.2 + port_risk
                + 3.0 * pressure(t) * (1.0 - 0.6 * col("edr_enabled", t))
                + 1.5 * col("exploit_available", t) * _sigmoid(2.0 * (col("max_cvss", t) - 8.0))
                + 0.6 * np.log1p(col("patch_age_days", t, 60.0) / 30.0) - 1.0
                - 1.2 * col("waf_enabled", s) * np.isin(port, _WEB_PORTS)
                - 0.25 * np.log1p(in_degree[t])
                + 0.3 * (col("kind", t) == ASSET_KINDS.index("DataStore"))
                - 2.5 * watch[t]
                - hard_t
            )
        elif rel_type == "HOSTS":
            value = 2.0 + 0.8 * col("run_as_root", t) + 0.6 * col("privileged", t) - 0.3 * hard_t
        elif rel_type == "ESCAPES_TO":
            priv = col("privileged", s)
            value = (
                -2.8 + 4.2 * priv
                + (1.0 - priv) * (
                    1.0 * col("run_as_root", s)
                    + 1.6 * _sigmoid((col("patch_age_days", t, 60.0) - 150.0) / 40.0)
                    - 1.3 * col("edr_enabled", t)
                )
                + 1.2 * col("exploit_available", s) * pressure(s)
                - hard_t
            )
        elif rel_type == "HAS_SESSION":
            session = np.asarray(edge["session_type"])[m]
            exposure = np.where(session >= 0, _SESSION_EXPOSURE[np.clip(session, 0, None)], 0.0)
            value = (
                -0.2 + exposure
                + 0.9 * (col("os", s, -1.0) == windows)
                - 2.2 * col("edr_enabled", s) * _sigmoid((90.0 - col("patch_age_days", s, 60.0)) / 30.0)
                - 1.6 * col("mfa_enabled", t)
                + 0.35 * np.log1p(col("password_age_days", t, 90.0) / 90.0)
                - 2.0 * watch[s]
                - 0.5 * hard_t
            )
        elif rel_type == "STORES_CREDENTIAL":
            cred = np.asarray(edge["credential_type"])[m]
            strength = np.where(cred >= 0, _CREDENTIAL_STRENGTH[np.clip(cred, 0, None)], 0.0)
            replayable = (cred == CREDENTIAL_TYPES.index("password")) | (cred == CREDENTIAL_TYPES.index("ntlm_hash"))
            value = (
                -0.4 + strength
                - 2.4 * col("mfa_enabled", t) * replayable
                + 0.45 * np.log1p(col("password_age_days", t, 90.0) / 120.0)
                - 0.9 * col("edr_enabled", s)
                - 0.5 * col("privileged", t)
                - 2.0 * watch[s]
                - 0.5 * hard_t
            )
        elif rel_type == "MEMBER_OF":
            value = 3.2 - 1.2 * col("privileged", t) * col("mfa_enabled", s) - 0.2 * hard_t
        elif rel_type == "ADMIN_TO":
            value = (
                1.0 + 0.7 * col("privileged", s) - 1.4 * col("mfa_enabled", s)
                + 0.6 * (col("os", t, -1.0) == windows)
                - 1.5 * col("edr_enabled", t) * col("critical", t)
                - 0.15 * np.log1p(out_degree[s])
                - 2.5 * watch[t]
                - hard_t
            )
        elif rel_type == "CAN_ASSUME":
            needs_mfa = np.clip(np.asarray(edge["requires_mfa"])[m], 0, 1).astype(np.float64)
            kind_s = col("kind", s)
            non_human = (kind_s == ASSET_KINDS.index("ServiceAccount")) | (kind_s == ASSET_KINDS.index("Role"))
            priv_s = col("privileged", s)
            value = (
                1.3 - 2.6 * needs_mfa - 1.5 * needs_mfa * non_human
                + 0.6 * priv_s
                + 0.5 * np.tanh(col("permissions_count", t) / 40.0)
                - 0.8 * col("privileged", t) * (1.0 - priv_s)
                - 0.5 * hard_t
            )
        else:  # CAN_ACCESS
            perm = np.asarray(edge["permission"])[m]
            reach = np.where(perm >= 0, _PERMISSION_REACH[np.clip(perm, 0, None)], 0.0)
            value = (
                -0.1 + reach
                - 1.3 * col("encrypted", t) * (perm == PERMISSIONS.index("read"))
                - 0.7 * col("critical", t)
                + 0.5 * col("privileged", s)
                + 0.3 * np.log1p(in_degree[t])
                - 0.6 * _sigmoid((60.0 - col("rotation_age_days", t, 365.0)) / 15.0)
                - 0.5 * hard_t
            )
        logit[m] = value
    return PROBABILITY_FLOOR + (PROBABILITY_CEILING - PROBABILITY_FLOOR) * _sigmoid(logit)


def sample_outcomes(
    prob: np.ndarray, label_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sample an observed outcome for every edge and choose which ones are published as training labels.

    Args:
        prob: true exploit probability per edge.
        label_share: share of edges whose outcome is published (exactly ``round(label_share * E)`` edges).
        rng: random generator (consumed in a fixed order: outcomes, then the labelled subset).

    Returns:
        ``(outcome, labelled)``: bool arrays of shape (E,); ``outcome ~ Bernoulli(prob)``.

    Raises:
        ValueError: ``label_share`` outside [0, 1].
    """
    if not 0.0 <= label_share <= 1.0:
        raise ValueError(f"label_share must lie in [0, 1], got {label_share}")
    prob = np.asarray(prob, dtype=np.float64)
    outcome = rng.random(len(prob)) < prob
    labelled = np.zeros(len(prob), dtype=bool)
    count = int(round(label_share * len(prob)))
    if count:
        labelled[rng.choice(len(prob), size=count, replace=False)] = True
    return outcome, labelled


# -- node compromise -------------------------------------------------------------------------------------------


def _check_graph(num_nodes: int, src: np.ndarray, dst: np.ndarray, prob: np.ndarray, sources: np.ndarray):
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    sources = np.unique(np.asarray(sources, dtype=np.int64))
    if not (src.ndim == dst.ndim == prob.ndim == 1) or not (len(src) == len(dst) == len(prob)):
        raise ValueError("src, dst and prob must be 1-D arrays of the same length")
    for name, column in (("src", src), ("dst", dst), ("sources", sources)):
        if len(column) and (column.min() < 0 or column.max() >= num_nodes):
            raise ValueError(f"{name} holds node indices outside [0, {num_nodes})")
    if np.isnan(prob).any() or (prob < 0).any() or (prob > 1).any():
        raise ValueError("edge probabilities must lie in [0, 1]")
    return src, dst, prob, sources


def _sample_alive(rng: np.random.Generator, prob: np.ndarray, trials: int, words: int) -> np.ndarray:
    """Bit-packed live-edge states: bit ``i`` of word ``w`` of row ``e`` = edge e works in trial ``64 w + i``."""
    alive = np.zeros((len(prob), words), dtype=np.uint64)
    threshold = prob.astype(np.float32)[:, None]
    chunk = max(1, (1 << 23) // max(trials, 1))
    packed_bytes = words * 8
    for lo in range(0, len(prob), chunk):
        hi = min(lo + chunk, len(prob))
        bits = rng.random((hi - lo, trials), dtype=np.float32) < threshold[lo:hi]
        packed = np.packbits(bits, axis=1, bitorder="little")
        if packed.shape[1] < packed_bytes:
            packed = np.pad(packed, ((0, 0), (0, packed_bytes - packed.shape[1])))
        alive[lo:hi] = np.ascontiguousarray(packed).view("<u8")
    return alive


def _propagate(
    num_nodes: int, src: np.ndarray, dst: np.ndarray, alive: np.ndarray, sources: np.ndarray, trials: int
) -> np.ndarray:
    """Reachability from ``sources`` in every trial at once; edges must be sorted by ``dst``."""
    words = alive.shape[1]
    source_mask = np.full(words, np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    tail = trials - 64 * (words - 1)
    if tail < 64:
        source_mask[-1] = np.uint64((1 << tail) - 1)
    reached = np.zeros((num_nodes, words), dtype=np.uint64)
    reached[sources] = source_mask
    changed = np.zeros(num_nodes, dtype=bool)
    changed[sources] = True
    while True:
        active = np.flatnonzero(changed[src])
        if not len(active):
            break
        contrib = reached[src[active]] & alive[active]
        targets = dst[active]
        starts = np.flatnonzero(np.concatenate(([True], targets[1:] != targets[:-1])))
        merged = np.bitwise_or.reduceat(contrib, starts, axis=0)
        targets = targets[starts]
        new = reached[targets] | merged
        grew = (new != reached[targets]).any(axis=1)
        changed[:] = False
        changed[targets[grew]] = True
        reached[targets[grew]] = new[grew]
    return reached


def simulate_compromise(
    num_nodes: int,
    src: np.ndarray,
    dst: np.ndarray,
    prob: np.ndarray,
    sources: np.ndarray,
    n_trials: int = 1024,
    seed: int | np.random.SeedSequence | np.random.Generator = 0,
    batch_trials: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo attacker simulation: probability that each node is reached from the entry points.

    Each trial keeps every edge independently with its probability (the live-edge model: an attacker who tries an
    edge either can or cannot traverse it) and marks every node reachable from any source as compromised. Trials are
    bit-packed 64 to a machine word and propagated together: a frontier Bellman-Ford over the edge list where each
    relaxation ORs ``reached[src] & alive[edge]`` into ``reached[dst]`` (segment OR with ``reduceat``).

    Args:
        num_nodes: number of nodes.
        src: source node index per edge.
        dst: target node index per edge.
        prob: probability that each edge works.
        sources: entry points (compromised in every trial).
        n_trials: number of trials (>= 1).
        seed: seed or generator for the edge states.
        batch_trials: trials simulated together (memory ~ E * batch_trials / 8 bytes).

    Returns:
        ``(probability, stderr)``: float64 arrays of shape (num_nodes,); ``stderr = sqrt(p (1 - p) / n_trials)``.

    Raises:
        ValueError: malformed arrays, out-of-range indices or ``n_trials < 1``.
    """
    src, dst, prob, sources = _check_graph(num_nodes, src, dst, prob, sources)
    if n_trials < 1 or batch_trials < 1:
        raise ValueError("n_trials and batch_trials must be >= 1")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    order = np.lexsort((src, dst))
    src, dst, prob = src[order], dst[order], prob[order]
    hits = np.zeros(num_nodes, dtype=np.int64)
    done = 0
    while done < n_trials:
        trials = min(batch_trials, n_trials - done)
        words = (trials + 63) // 64
        alive = _sample_alive(rng, prob, trials, words)
        reached = _propagate(num_nodes, src, dst, alive, sources, trials)
        hits += np.bitwise_count(reached).sum(axis=1, dtype=np.int64)
        done += trials
    probability = hits / float(n_trials)
    stderr = np.sqrt(probability * (1.0 - probability) / n_trials)
    return probability, stderr


def compromise_probability_exact(
    num_nodes: int, src: np.ndarray, dst: np.ndarray, prob: np.ndarray, sources: np.ndarray
) -> np.ndarray:
    """Exact compromise probability on a tiny graph by enumerating all 2^E live-edge states.

    Same model as `simulate_compromise`; use it to check the simulation.

    Args:
        num_nodes: number of nodes.
        src: source node index per edge.
        dst: target node index per edge.
        prob: probability that each edge works.
        sources: entry points.

    Returns:
        float64 array of shape (num_nodes,).

    Raises:
        ValueError: more than 16 edges, or malformed arrays.
    """
    src, dst, prob, sources = _check_graph(num_nodes, src, dst, prob, sources)
    num_edges = len(src)
    if num_edges > 16:
        raise ValueError(f"exact enumeration is limited to 16 edges, got {num_edges}")
    states = ((np.arange(2 ** num_edges)[:, None] >> np.arange(num_edges)) & 1).astype(bool)
    weight = np.prod(np.where(states, prob, 1.0 - prob), axis=1)
    reach = np.zeros((len(states), num_nodes), dtype=bool)
    reach[:, sources] = True
    for _ in range(max(num_nodes, 1)):
        before = reach.copy()
        for e in range(num_edges):
            reach[:, dst[e]] |= reach[:, src[e]] & states[:, e]
        if np.array_equal(before, reach):
            break
    return np.clip(weight @ reach, 0.0, 1.0)


# -- attack paths ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruePath:
    """One true attack path (entry point first, crown jewel last).

    Attributes:
        node_ids: node ids along the path.
        rel_types: relationship type per hop.
        probability: product of the true edge probabilities.
        hops: number of edges.
    """

    node_ids: tuple[str, ...]
    rel_types: tuple[str, ...]
    probability: float
    hops: int

    def to_json(self) -> dict[str, Any]:
        """The path as a JSON-able dict."""
        return {"node_ids": list(self.node_ids), "rel_types": list(self.rel_types),
                "probability": self.probability, "hops": self.hops}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "TruePath":
        """Rebuild a path from `to_json` output."""
        return cls(node_ids=tuple(raw["node_ids"]), rel_types=tuple(raw["rel_types"]),
                   probability=float(raw["probability"]), hops=int(raw["hops"]))


def true_top_paths(
    node_ids: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    rel_names: np.ndarray,
    prob: np.ndarray,
    sources: np.ndarray,
    targets: np.ndarray,
    k: int = 5,
    max_hops: int = 8,
) -> dict[str, list[TruePath]]:
    """Exact k most probable paths from any entry point to each target, by true path probability.

    Args:
        node_ids: id per node index.
        src, dst: node index per edge.
        rel_names: relationship type per edge.
        prob: true exploit probability per edge.
        sources: entry-point node indices.
        targets: crown-jewel node indices.
        k: paths per target.
        max_hops: longest path considered.

    Returns:
        ``{crown_jewel_id: [TruePath, ...]}``, most probable first, possibly empty lists.
    """
    graph = AttackGraph(len(node_ids), src, dst, prob, rel_types=list(rel_names))
    found = graph.top_paths_to_targets(sources, targets, k=k, max_hops=max_hops)
    return {
        str(node_ids[target]): [
            TruePath(node_ids=tuple(str(node_ids[v]) for v in path.nodes), rel_types=tuple(path.rel_types),
                     probability=float(path.probability), hops=int(path.hops))
            for path in paths
        ]
        for target, paths in sorted(found.items())
    }


# -- the bundle ------------------------------------------------------------------------------------------------

_ARRAY_FIELDS = (
    "node_ids", "node_kinds", "edge_src", "edge_dst", "edge_rel", "edge_exploit_prob", "edge_outcome",
    "edge_labelled", "entry_points", "crown_jewels", "node_hardening", "node_compromise_prob",
    "node_compromise_stderr",
)


@dataclass
class GroundTruth:
    """Everything true about one synthetic environment that the graph does not show.

    Node arrays are indexed by the asset node index (``node_ids[i]`` is the id of node i); edge arrays are aligned
    with each other: edge ``e`` is ``(node_ids[edge_src[e]], rel_types[edge_rel[e]], node_ids[edge_dst[e]])``.

    Attributes:
        node_ids: asset node ids (str).
        node_kinds: asset node kind label per node (str).
        rel_types: relationship type per ``edge_rel`` code.
        edge_src, edge_dst: node index per attack edge (int64).
        edge_rel: relationship code per attack edge (int16).
        edge_exploit_prob: true exploit probability per attack edge.
        edge_outcome: sampled outcome per attack edge (``Bernoulli(edge_exploit_prob)``), for every edge.
        edge_labelled: whether the outcome was published on the graph as ``exploited``.
        entry_points: node indices of entry points.
        crown_jewels: node indices of crown jewels.
        node_hardening: the hidden per-node hardening factor used by `exploit_probability`.
        node_compromise_prob: Monte Carlo compromise probability per node (NaN when not simulated).
        node_compromise_stderr: its standard error (NaN when not simulated).
        n_trials: Monte Carlo trials (0 when not simulated).
        top_paths: ``{crown_jewel_id: [TruePath, ...]}`` exact top-K paths (empty when not computed).
        top_k: K used for ``top_paths``.
        max_hops: hop bound used for ``top_paths``.
        metadata: JSON-able facts about the run (seed, size, label share ...).
    """

    node_ids: np.ndarray
    node_kinds: np.ndarray
    rel_types: tuple[str, ...]
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_rel: np.ndarray
    edge_exploit_prob: np.ndarray
    edge_outcome: np.ndarray
    edge_labelled: np.ndarray
    entry_points: np.ndarray
    crown_jewels: np.ndarray
    node_hardening: np.ndarray
    node_compromise_prob: np.ndarray
    node_compromise_stderr: np.ndarray
    n_trials: int = 0
    top_paths: dict[str, list[TruePath]] = field(default_factory=dict)
    top_k: int = 0
    max_hops: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    _edge_keys: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _edge_key_order: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _node_order: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _sorted_node_ids: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def num_nodes(self) -> int:
        """Number of asset nodes."""
        return len(self.node_ids)

    @property
    def num_edges(self) -> int:
        """Number of attack edges."""
        return len(self.edge_src)

    @property
    def simulated(self) -> bool:
        """Whether node compromise probabilities were simulated."""
        return self.n_trials > 0

    @property
    def edge_src_ids(self) -> np.ndarray:
        """Source node id per attack edge."""
        return self.node_ids[self.edge_src]

    @property
    def edge_dst_ids(self) -> np.ndarray:
        """Target node id per attack edge."""
        return self.node_ids[self.edge_dst]

    @property
    def edge_rel_types(self) -> np.ndarray:
        """Relationship type per attack edge."""
        return np.asarray(self.rel_types, dtype=str)[self.edge_rel]

    @property
    def entry_point_ids(self) -> np.ndarray:
        """Ids of the entry points."""
        return self.node_ids[self.entry_points]

    @property
    def crown_jewel_ids(self) -> np.ndarray:
        """Ids of the crown jewels."""
        return self.node_ids[self.crown_jewels]

    def exploit_probs(self, src_ids: Any, rel_types: Any, dst_ids: Any) -> np.ndarray:
        """True exploit probabilities for edges named by ``(src_id, rel_type, dst_id)`` (vectorised).

        Args:
            src_ids, rel_types, dst_ids: equal-length sequences of strings.

        Returns:
            float64 array; NaN where no such attack edge exists.
        """
        keys = _join_edge_keys(np.asarray(src_ids, dtype=str), np.asarray(rel_types, dtype=str),
                          np.asarray(dst_ids, dtype=str))
        if self._edge_keys is None:
            own = _join_edge_keys(self.edge_src_ids.astype(str), self.edge_rel_types, self.edge_dst_ids.astype(str))
            self._edge_key_order = np.argsort(own, kind="stable")
            self._edge_keys = own[self._edge_key_order]
        result = np.full(len(keys), np.nan)
        if not len(self._edge_keys):
            return result
        pos = np.clip(np.searchsorted(self._edge_keys, keys), 0, len(self._edge_keys) - 1)
        found = self._edge_keys[pos] == keys
        result[found] = self.edge_exploit_prob[self._edge_key_order[pos[found]]]
        return result

    def exploit_prob(self, src_id: str, rel_type: str, dst_id: str) -> float:
        """True exploit probability of one attack edge.

        Raises:
            KeyError: no such attack edge.
        """
        value = self.exploit_probs([src_id], [rel_type], [dst_id])[0]
        if math.isnan(value):
            raise KeyError((src_id, rel_type, dst_id))
        return float(value)

    def node_index(self, node_ids: Any) -> np.ndarray:
        """Node index per id; -1 for ids that are not asset nodes of this environment."""
        ids = np.asarray(node_ids, dtype=str)
        if self._node_order is None:
            self._node_order = np.argsort(self.node_ids.astype(str), kind="stable")
            self._sorted_node_ids = self.node_ids.astype(str)[self._node_order]
        if not len(self._sorted_node_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.clip(np.searchsorted(self._sorted_node_ids, ids), 0, len(self._sorted_node_ids) - 1)
        found = self._sorted_node_ids[pos] == ids
        return np.where(found, self._node_order[pos], -1)

    def compromise_probs(self, node_ids: Any) -> np.ndarray:
        """True compromise probability per node id (NaN for unknown ids or when not simulated)."""
        index = self.node_index(node_ids)
        return np.where(index >= 0, self.node_compromise_prob[np.clip(index, 0, None)], np.nan)

    # -- persistence ------------------------------------------------------------------------------------------

    @staticmethod
    def paths_for(path: str | Path) -> tuple[Path, Path]:
        """The ``(.npz, .json)`` pair a ground truth is stored in for ``path`` (suffix optional)."""
        base = Path(path)
        if base.suffix in (".npz", ".json"):
            base = base.with_suffix("")
        return base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")

    def save(self, path: str | Path) -> tuple[Path, Path]:
        """Write the arrays to ``<path>.npz`` and everything else to ``<path>.json``.

        The output is byte-identical for identical ground truths (fixed zip timestamps, sorted JSON keys). Arrays
        of strings are stored as fixed-width unicode, so `load` never needs pickle.

        Returns:
            The two paths written.
        """
        npz_path, json_path = self.paths_for(path)
        npz_path.parent.mkdir(parents=True, exist_ok=True)
        npz_path.write_bytes(self._npz_bytes())
        json_path.write_text(self._json_text(), encoding="utf-8")
        return npz_path, json_path

    def to_bytes(self) -> bytes:
        """The saved form as one byte string (npz bytes followed by the JSON), e.g. for hashing."""
        return self._npz_bytes() + self._json_text().encode("utf-8")

    def _npz_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in _ARRAY_FIELDS:
                array = np.asarray(getattr(self, name))
                if array.dtype == object:
                    array = array.astype(str)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                payload = io.BytesIO()
                np.lib.format.write_array(payload, np.ascontiguousarray(array), allow_pickle=False)
                archive.writestr(info, payload.getvalue())
        return buffer.getvalue()

    def _json_text(self) -> str:
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "rel_types": list(self.rel_types),
            "n_trials": int(self.n_trials),
            "top_k": int(self.top_k),
            "max_hops": int(self.max_hops),
            "metadata": _jsonable(self.metadata),
            "top_paths": {key: [p.to_json() for p in paths] for key, paths in sorted(self.top_paths.items())},
        }
        return json.dumps(document, sort_keys=True, indent=1) + "\n"

    @classmethod
    def load(cls, path: str | Path) -> "GroundTruth":
        """Read a ground truth written by `save`.

        Raises:
            FileNotFoundError: either file is missing.
            ValueError: the files are not a ground truth of a supported version.
        """
        npz_path, json_path = cls.paths_for(path)
        document = json.loads(json_path.read_text(encoding="utf-8"))
        if document.get("format") != FORMAT_NAME or document.get("version") != FORMAT_VERSION:
            raise ValueError(f"{json_path} is not a {FORMAT_NAME} v{FORMAT_VERSION} file")
        with np.load(npz_path, allow_pickle=False) as archive:
            missing = [name for name in _ARRAY_FIELDS if name not in archive.files]
            if missing:
                raise ValueError(f"{npz_path} lacks arrays {', '.join(missing)}")
            arrays = {name: archive[name] for name in _ARRAY_FIELDS}
        arrays["node_ids"] = arrays["node_ids"].astype(object)
        arrays["node_kinds"] = arrays["node_kinds"].astype(object)
        return cls(
            rel_types=tuple(document["rel_types"]),
            n_trials=int(document["n_trials"]),
            top_paths={key: [TruePath.from_json(p) for p in paths] for key, paths in document["top_paths"].items()},
            top_k=int(document["top_k"]),
            max_hops=int(document["max_hops"]),
            metadata=document["metadata"],
            **arrays,
        )


def _join_edge_keys(src: np.ndarray, rel: np.ndarray, dst: np.ndarray) -> np.ndarray:
    separator = "\x1f"
    return np.strings.add(np.strings.add(np.strings.add(np.strings.add(src, separator), rel), separator), dst)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def build_ground_truth(
    *,
    node_ids: np.ndarray,
    node_kinds: np.ndarray,
    edge_src: np.ndarray,
    edge_dst: np.ndarray,
    edge_rel: np.ndarray,
    edge_exploit_prob: np.ndarray,
    edge_outcome: np.ndarray,
    edge_labelled: np.ndarray,
    entry_points: np.ndarray,
    crown_jewels: np.ndarray,
    node_hardening: np.ndarray,
    simulate: bool = True,
    n_trials: int = 1024,
    top_k: int = 5,
    max_hops: int = 8,
    seed: int | np.random.SeedSequence = 0,
    metadata: Mapping[str, Any] | None = None,
) -> GroundTruth:
    """Assemble a `GroundTruth`: simulate node compromise and find the exact top-K paths when ``simulate``.

    Args:
        node_ids ... node_hardening: see `GroundTruth`.
        simulate: run the Monte Carlo simulation and the top-K path search (skip for generation-only benchmarks).
        n_trials: Monte Carlo trials.
        top_k: paths per crown jewel.
        max_hops: hop bound for paths.
        seed: seed for the Monte Carlo edge states.
        metadata: JSON-able facts to keep.

    Returns:
        The ground truth.
    """
    num_nodes = len(node_ids)
    if simulate:
        began = time.perf_counter()
        prob, stderr = simulate_compromise(num_nodes, edge_src, edge_dst, edge_exploit_prob, entry_points,
                                           n_trials=n_trials, seed=seed)
        log.info("simulated %d attacker trials over %d nodes / %d edges in %.2fs", n_trials, num_nodes,
                 len(edge_src), time.perf_counter() - began)
        began = time.perf_counter()
        rel_names = np.asarray(ATTACK_REL_TYPES, dtype=object)[edge_rel]
        paths = true_top_paths(node_ids, edge_src, edge_dst, rel_names, edge_exploit_prob, entry_points,
                               crown_jewels, k=top_k, max_hops=max_hops)
        log.info("found top-%d true paths for %d crown jewels in %.2fs", top_k, len(crown_jewels),
                 time.perf_counter() - began)
    else:
        prob = np.full(num_nodes, np.nan)
        stderr = np.full(num_nodes, np.nan)
        n_trials = 0
        paths = {}
    return GroundTruth(
        node_ids=np.asarray(node_ids, dtype=object),
        node_kinds=np.asarray(node_kinds, dtype=object),
        rel_types=ATTACK_REL_TYPES,
        edge_src=np.asarray(edge_src, dtype=np.int64),
        edge_dst=np.asarray(edge_dst, dtype=np.int64),
        edge_rel=np.asarray(edge_rel, dtype=np.int16),
        edge_exploit_prob=np.asarray(edge_exploit_prob, dtype=np.float64),
        edge_outcome=np.asarray(edge_outcome, dtype=bool),
        edge_labelled=np.asarray(edge_labelled, dtype=bool),
        entry_points=np.asarray(entry_points, dtype=np.int64),
        crown_jewels=np.asarray(crown_jewels, dtype=np.int64),
        node_hardening=np.asarray(node_hardening, dtype=np.float64),
        node_compromise_prob=prob,
        node_compromise_stderr=stderr,
        n_trials=int(n_trials),
        top_paths=paths,
        top_k=int(top_k) if simulate else 0,
        max_hops=int(max_hops) if simulate else 0,
        metadata=dict(metadata or {}),
    )
