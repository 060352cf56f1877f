"""Synthetic infrastructure + identity environments in the canonical schema, with hidden ground truth.

The generator builds a believable company: internet-facing load balancers in front of DMZ web hosts, an app tier,
data hosts and managed data stores, a corporate network of workstations with domain controllers, containers on
web/app hosts, users, service accounts, groups, cloud roles and secrets. Identities hold sessions on hosts, hosts
and containers store credentials, groups hold admin rights, roles are assumable and grant data access. A small
share of misconfigurations opens shortcuts (web hosts reaching workstations or data stores directly, exposed
app/workstation hosts, stale admin rights, over-broad roles, credentials left on web hosts, nested admin groups).

Everything is vectorised numpy (10^6 nodes in seconds); the same seed and size give byte-identical output
(`graph_fingerprint`, `GroundTruth.to_bytes`). The schema is `gnn_neo4j/mappings/canonical.yaml`; the hidden
truth (edge exploit probabilities, node compromise probabilities, true top-K paths) lives in
`gnn_neo4j.ground_truth` and is never put on the graph - only sampled outcomes (``exploited``) on a share of
the attack edges are.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gnn_neo4j.graph import EdgeSet, NodeSet, PropertyGraph
from gnn_neo4j.ground_truth import (
    ASSET_KINDS,
    ATTACK_REL_TYPES,
    CREDENTIAL_TYPES,
    NODE_COLUMNS,
    OS_VALUES,
    PERMISSIONS,
    SESSION_TYPES,
    GroundTruth,
    build_ground_truth,
    exploit_probability,
    sample_outcomes,
)

log = logging.getLogger(__name__)

GENERATOR_VERSION = 1

SIZES: dict[str, int] = {"small": 400, "medium": 8_000, "large": 100_000}
"""Target total node counts of the named sizes."""
MIN_ASSETS = 60
MAX_ASSETS = 1_000_000

KEY_LABEL = "Asset"
CONTEXT_LABELS: tuple[str, ...] = ("Subnet", "SecurityGroup", "Software", "Vulnerability")
"""Context node labels (not assets, not traversed by attackers; they explain the asset features)."""
CONTEXT_REL_TYPES: tuple[str, ...] = ("IN_SUBNET", "PROTECTED_BY", "RUNS", "HAS_VULNERABILITY")
"""Context relationships: # (:Asset)-[:IN_SUBNET]->(:Subnet), (:Asset)-[:PROTECTED_BY]->(:SecurityGroup),
(:Asset)-[:RUNS]->(:Software), (:Software)-[:HAS_VULNERABILITY]->(:Vulnerability)."""

KIND_TYPES: dict[str, str] = {
    "LoadBalancer": "load_balancer", "Host": "host", "Container": "container", "User": "user", "Group": "group",
    "Role": "role", "ServiceAccount": "service_account", "DataStore": "data_store", "Secret": "secret",
}
"""Value of the ``type`` property per asset kind."""

ZONES: tuple[str, ...] = ("dmz", "app", "data", "corp")
HOST_ROLES: tuple[str, ...] = ("web", "app", "data", "workstation", "domain_controller")
_HOST_ROLE_ZONE = np.array([0, 1, 2, 3, 3])
ENGINES: tuple[str, ...] = ("postgres", "mysql", "mongodb", "redis", "object_storage")
_ENGINE_PORT = np.array([5432, 3306, 27017, 6379, 443])
PORT_PROTOCOLS: dict[int, str] = {
    22: "ssh", 80: "http", 443: "https", 445: "smb", 3306: "mysql", 3389: "rdp", 5432: "postgres",
    6379: "redis", 8080: "http", 8443: "https", 27017: "mongodb",
}
PORTS: tuple[int, ...] = tuple(sorted(PORT_PROTOCOLS))
PROTOCOLS: tuple[str, ...] = tuple(sorted(set(PORT_PROTOCOLS.values())))

_VULN_FEATURES = {
    "vuln_count": ("numeric", ()), "max_cvss": ("numeric", ()), "epss_max": ("numeric", ()),
    "exploit_available": ("boolean", ()),
}
NODE_FEATURES: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "LoadBalancer": {"internet_exposed": ("boolean", ()), "waf_enabled": ("boolean", ()), **_VULN_FEATURES},
    "Host": {
        "os": ("categorical", OS_VALUES), "host_role": ("categorical", HOST_ROLES), "zone": ("categorical", ZONES),
        "internet_exposed": ("boolean", ()), "patch_age_days": ("numeric", ()), **_VULN_FEATURES,
        "edr_enabled": ("boolean", ()), "critical": ("boolean", ()),
    },
    "Container": {"privileged": ("boolean", ()), "run_as_root": ("boolean", ()), **_VULN_FEATURES},
    "User": {"mfa_enabled": ("boolean", ()), "privileged": ("boolean", ()), "password_age_days": ("numeric", ())},
    "ServiceAccount": {
        "mfa_enabled": ("boolean", ()), "privileged": ("boolean", ()), "password_age_days": ("numeric", ()),
    },
    "Group": {"privileged": ("boolean", ()), "member_count": ("numeric", ())},
    "Role": {"privileged": ("boolean", ()), "permissions_count": ("numeric", ()), "critical": ("boolean", ())},
    "DataStore": {
        "engine": ("categorical", ENGINES), "critical": ("boolean", ()), "encrypted": ("boolean", ()),
        **_VULN_FEATURES,
    },
    "Secret": {"critical": ("boolean", ()), "encrypted": ("boolean", ()), "rotation_age_days": ("numeric", ())},
}
"""Observable feature properties per asset kind: name -> (feature type, categorical values)."""

EDGE_FEATURES: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "CAN_REACH": {"port": ("categorical", tuple(str(p) for p in PORTS)), "protocol": ("categorical", PROTOCOLS)},
    "HAS_SESSION": {"session_type": ("categorical", SESSION_TYPES)},
    "STORES_CREDENTIAL": {"credential_type": ("categorical", CREDENTIAL_TYPES)},
    "CAN_ASSUME": {"requires_mfa": ("boolean", ())},
    "CAN_ACCESS": {"permission": ("categorical", PERMISSIONS)},
}
"""Observable feature properties per attack relationship type (all attack edges may also carry ``exploited``)."""

LABEL_PROPERTY = "exploited"

# Features that are left missing on a ``missing_share`` of nodes (markers and derived counts never are).
_MAY_BE_MISSING = frozenset({
    "os", "patch_age_days", "edr_enabled", "mfa_enabled", "password_age_days", "encrypted", "permissions_count",
    "rotation_age_days", "waf_enabled", "run_as_root",
})

_KIND_WEIGHTS = {
    "LoadBalancer": 0.003, "Host": 0.22, "Container": 0.13, "User": 0.19, "Group": 0.02, "Role": 0.04,
    "ServiceAccount": 0.05, "DataStore": 0.035, "Secret": 0.045, "Subnet": 0.004, "SecurityGroup": 0.01,
    "Software": 0.05, "Vulnerability": 0.09,
}
_KIND_MINIMUM = {
    "LoadBalancer": 2, "Host": 12, "Container": 2, "User": 4, "Group": 3, "Role": 3, "ServiceAccount": 2,
    "DataStore": 2, "Secret": 2, "Subnet": 4, "SecurityGroup": 4, "Software": 4, "Vulnerability": 2,
}
_HOST_ROLE_SHARE = {"web": 0.15, "app": 0.30, "data": 0.08, "domain_controller": 0.005}
_HOST_ROLE_MINIMUM = {"web": 2, "app": 2, "data": 1, "domain_controller": 1}

_SOFTWARE_PRODUCTS = (
    ("openssl", "openssl"), ("nginx", "f5"), ("apache_httpd", "apache"), ("openssh", "openbsd"),
    ("log4j", "apache"), ("tomcat", "apache"), ("postgresql", "postgresql"), ("mysql", "oracle"),
    ("redis", "redis"), ("mongodb", "mongodb"), ("windows_server", "microsoft"), ("windows", "microsoft"),
    ("iis", "microsoft"), ("exchange", "microsoft"), ("jenkins", "jenkins"), ("gitlab", "gitlab"),
    ("kubelet", "kubernetes"), ("containerd", "cncf"), ("spring_framework", "vmware"), ("nodejs", "openjs"),
    ("python", "psf"), ("glibc", "gnu"), ("sudo", "sudo_project"), ("chrome", "google"),
)


@dataclass(frozen=True)
class GeneratorConfig:
    """World-model knobs of the generator (defaults give the documented behaviour).

    Attributes:
        missing_share: share of nodes whose optional features (os, patch age, EDR, MFA ...) are left missing.
        exposed_web_share: share of DMZ web hosts with a public address (entry points besides the LBs).
        misconfig_exposed_share: share of app hosts and workstations exposed to the internet by mistake.
        shortcut_share: rate of misconfiguration shortcuts (web->workstation/data reachability, stale admin
            rights, over-broad roles, credentials on web hosts, nested admin groups).
        simulate: compute node compromise probabilities and top-K paths (off for generation-only benchmarks).
        mc_trials: Monte Carlo attacker trials for node compromise probabilities.
        top_k: true attack paths kept per crown jewel.
        max_hops: hop bound for true attack paths.
    """

    missing_share: float = 0.03
    exposed_web_share: float = 0.05
    misconfig_exposed_share: float = 0.004
    shortcut_share: float = 0.03
    simulate: bool = True
    mc_trials: int = 1024
    top_k: int = 5
    max_hops: int = 8

    def __post_init__(self) -> None:
        for name in ("missing_share", "exposed_web_share", "misconfig_exposed_share", "shortcut_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.mc_trials < 1 or self.top_k < 1 or self.max_hops < 1:
            raise ValueError("mc_trials, top_k and max_hops must be >= 1")


@dataclass
class SyntheticEnvironment:
    """A generated environment: the graph to load, its hidden ground truth and facts about the run.

    Attributes:
        graph: nodes and relationships in the canonical schema (no hidden values on it).
        ground_truth: hidden truth; save it with `GroundTruth.save`, never into Neo4j.
        metadata: seed, size, target node count, counts per label/type, label share, generator version.
    """

    graph: PropertyGraph
    ground_truth: GroundTruth
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def entry_point_ids(self) -> np.ndarray:
        """Ids of the entry points (``internet_exposed = true``)."""
        return self.ground_truth.entry_point_ids

    @property
    def crown_jewel_ids(self) -> np.ndarray:
        """Ids of the crown jewels (``critical = true``)."""
        return self.ground_truth.crown_jewel_ids


class SyntheticDataGenerator:
    """Generate a synthetic attack-graph environment with hidden ground truth.

    Args:
        seed: non-negative integer; the same seed, size and config give byte-identical output.
        size: ``"small"`` (~400 nodes), ``"medium"`` (~8k) or ``"large"`` (~100k); default small.
        assets: target total node count instead of a named size (60 .. 1,000,000).
        label_share: share of attack edges whose sampled outcome is published as ``exploited``.
        config: world-model knobs (`GeneratorConfig`).

    Raises:
        ValueError: unknown size, both or neither of size/assets out of range, bad seed or label share.

    Example::

        env = SyntheticDataGenerator(seed=7, size="medium").generate_all()
        load_graph(runner, env.graph); env.ground_truth.save("truth/medium-7")
    """

    def __init__(
        self,
        seed: int,
        size: str | None = None,
        assets: int | None = None,
        label_share: float = 0.3,
        config: GeneratorConfig | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if size is not None and assets is not None:
            raise ValueError("give either size or assets, not both")
        if assets is None:
            size = size or "small"
            if size not in SIZES:
                raise ValueError(f"unknown size {size!r}; known: {', '.join(SIZES)}")
            target = SIZES[size]
        else:
            if isinstance(assets, bool) or not isinstance(assets, (int, np.integer)):
                raise ValueError(f"assets must be an integer, got {assets!r}")
            if not MIN_ASSETS <= assets <= MAX_ASSETS:
                raise ValueError(f"assets must lie in [{MIN_ASSETS}, {MAX_ASSETS}], got {assets}")
            target = int(assets)
        if not 0.0 <= label_share <= 1.0:
            raise ValueError(f"label_share must lie in [0, 1], got {label_share}")
        self.seed = int(seed)
        self.size = size
        self.target_nodes = target
        self.label_share = float(label_share)
        self.config = config or GeneratorConfig()

    def generate_all(self) -> SyntheticEnvironment:
        """Build the graph, sample labels and compute the hidden ground truth.

        Returns:
            A `SyntheticEnvironment` whose graph passes `PropertyGraph.validate`.
        """
        began = time.perf_counter()
        world_seed, label_seed, simulation_seed = np.random.SeedSequence(self.seed).spawn(3)
        world = _World(self.target_nodes, self.config, np.random.default_rng(world_seed))
        log.info("built world of %d nodes / %d edges in %.2fs", world.node_count, world.edge_count,
                 time.perf_counter() - began)
        stage = time.perf_counter()
        prob = exploit_probability(world.rel, world.src, world.dst, world.node, world.edge)
        outcome, labelled = sample_outcomes(prob, self.label_share, np.random.default_rng(label_seed))
        graph = world.property_graph(outcome, labelled)
        log.info("assembled property graph in %.2fs", time.perf_counter() - stage)
        metadata = {
            "generator_version": GENERATOR_VERSION,
            "mapping": "canonical",
            "seed": self.seed,
            "size": self.size,
            "target_nodes": self.target_nodes,
            "label_share": self.label_share,
            "config": asdict(self.config),
            "node_count": graph.node_count,
            "edge_count": graph.edge_count,
            "attack_edge_count": int(len(world.src)),
            "counts": graph.counts(),
        }
        truth = build_ground_truth(
            node_ids=world.node_ids,
            node_kinds=np.asarray(ASSET_KINDS, dtype=object)[world.kind],
            edge_src=world.src,
            edge_dst=world.dst,
            edge_rel=world.rel,
            edge_exploit_prob=prob,
            edge_outcome=outcome,
            edge_labelled=labelled,
            entry_points=world.entry_points,
            crown_jewels=world.crown_jewels,
            node_hardening=world.node["hardening"],
            simulate=self.config.simulate,
            n_trials=self.config.mc_trials,
            top_k=self.config.top_k,
            max_hops=self.config.max_hops,
            seed=simulation_seed,
            metadata=metadata,
        )
        log.info("generated environment seed=%d (%d nodes, %d relationships) in %.2fs", self.seed,
                 graph.node_count, graph.edge_count, time.perf_counter() - began)
        return SyntheticEnvironment(graph=graph, ground_truth=truth, metadata=metadata)


def generate_splits(
    seeds: tuple[int, int, int] = (0, 1, 2),
    size: str | None = None,
    assets: int | None = None,
    label_share: float = 0.3,
    config: GeneratorConfig | None = None,
) -> tuple[SyntheticEnvironment, SyntheticEnvironment, SyntheticEnvironment]:
    """Train, validation and test environments: three independent graphs of the same size, different seeds.

    Args:
        seeds: ``(train, validation, test)`` seeds; must be distinct.
        size, assets, label_share, config: as for `SyntheticDataGenerator`.

    Returns:
        ``(train, validation, test)`` environments.

    Raises:
        ValueError: not three distinct seeds, or invalid generator arguments.
    """
    seeds = tuple(seeds)
    if len(seeds) != 3 or len(set(seeds)) != 3:
        raise ValueError(f"need three distinct seeds (train, validation, test), got {seeds}")
    train, validation, test = (
        SyntheticDataGenerator(seed, size=size, assets=assets, label_share=label_share, config=config).generate_all()
        for seed in seeds
    )
    return train, validation, test


def graph_fingerprint(graph: PropertyGraph) -> str:
    """SHA-256 over every label, id, relationship and property value of ``graph`` (for determinism checks)."""
    digest = hashlib.sha256()

    def feed_column(name: str, column: np.ndarray) -> None:
        column = np.asarray(column)
        digest.update(f"{name}:{column.dtype.str}:{len(column)}\n".encode())
        if column.dtype == object:
            digest.update("\x1f".join(map(repr, column.tolist())).encode("utf-8"))
        else:
            digest.update(np.ascontiguousarray(column).tobytes())

    for node_set in graph.nodes:
        digest.update(("nodes:" + ":".join(node_set.labels) + "\n").encode())
        feed_column("id", node_set.ids)
        for name in sorted(node_set.properties):
            feed_column(name, node_set.properties[name])
    for edge_set in graph.edges:
        digest.update(f"edges:{edge_set.src_label}-{edge_set.rel_type}->{edge_set.dst_label}\n".encode())
        feed_column("src", edge_set.src)
        feed_column("dst", edge_set.dst)
        for name in sorted(edge_set.properties):
            feed_column(name, edge_set.properties[name])
    return digest.hexdigest()


# -- the world model -------------------------------------------------------------------------------------------


def _plan_counts(target: int) -> dict[str, int]:
    total_weight = sum(_KIND_WEIGHTS.values())
    return {kind: max(_KIND_MINIMUM[kind], int(round(target * w / total_weight))) for kind, w in _KIND_WEIGHTS.items()}


def _split(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into len(weights) parts, each >= 1 when total allows, roughly proportional to weights."""
    parts = np.ones(len(weights), dtype=np.int64)
    rest = total - len(weights)
    if rest > 0:
        share = weights / weights.sum() * rest
        parts += np.floor(share).astype(np.int64)
        leftover = rest - int(np.floor(share).sum())
        parts[np.argsort(-(share - np.floor(share)), kind="stable")[:leftover]] += 1
    return parts


def _names(prefix: str, count: int, width: int = 6) -> np.ndarray:
    """``prefix000001``-style strings as an object array (vectorised numpy string ops)."""
    digits = np.strings.zfill(np.arange(count).astype(np.dtypes.StringDType()), width)
    return np.strings.add(prefix, digits).astype(object)


class _EdgeBuffer:
    """Collects attack-edge blocks; `finish` drops self-loops and duplicates (first block wins)."""

    _COLUMNS = ("port", "session_type", "credential_type", "permission", "requires_mfa")

    def __init__(self) -> None:
        self.blocks: list[dict[str, np.ndarray]] = []

    def add(self, rel_type: str, src: np.ndarray, dst: np.ndarray, **columns: np.ndarray) -> None:
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        block = {
            "rel": np.full(len(src), ATTACK_REL_TYPES.index(rel_type), dtype=np.int16), "src": src, "dst": dst,
        }
        for name in self._COLUMNS:
            value = columns.pop(name, -1)
            block[name] = np.broadcast_to(np.asarray(value, dtype=np.int64), len(src))
        if columns:
            raise ValueError(f"unknown edge columns {sorted(columns)}")
        self.blocks.append(block)

    def finish(self, num_nodes: int) -> dict[str, np.ndarray]:
        merged = {name: np.concatenate([b[name] for b in self.blocks]) for name in self.blocks[0]}
        keep = merged["src"] != merged["dst"]
        merged = {name: column[keep] for name, column in merged.items()}
        key = (merged["rel"].astype(np.int64) * num_nodes + merged["src"]) * num_nodes + merged["dst"]
        _, first = np.unique(key, return_index=True)
        return {name: np.ascontiguousarray(column[first]) for name, column in merged.items()}


class _World:
    """The latent world: every node's true feature values and every edge, as integer-indexed arrays."""

    def __init__(self, target: int, config: GeneratorConfig, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        self.counts = _plan_counts(target)
        self._layout()
        self._asset_features()
        self._software()
        self._attack_edges()
        self._context_edges()
        self._vulnerability_features()
        self.entry_points = np.flatnonzero(self.node["internet_exposed"] == 1.0)
        self.crown_jewels = np.flatnonzero(self.node["critical"] == 1.0)

    # -- layout ------------------------------------------------------------------------------------------------

    def _layout(self) -> None:
        counts = self.counts
        self.offset: dict[str, int] = {}
        start = 0
        for kind in ASSET_KINDS:
            self.offset[kind] = start
            start += counts[kind]
        self.num_assets = start
        self.kind = np.repeat(np.arange(len(ASSET_KINDS), dtype=np.int64), [counts[k] for k in ASSET_KINDS])

        n_hosts = counts["Host"]
        roles = {role: max(_HOST_ROLE_MINIMUM[role], int(round(n_hosts * share)))
                 for role, share in _HOST_ROLE_SHARE.items()}
        roles["workstation"] = n_hosts - sum(roles.values())
        role_counts = np.array([roles[r] for r in HOST_ROLES])
        self.host_role = np.repeat(np.arange(len(HOST_ROLES)), role_counts)
        bounds = np.concatenate(([0], np.cumsum(role_counts))) + self.offset["Host"]
        self.hosts = {role: (int(bounds[i]), int(bounds[i + 1])) for i, role in enumerate(HOST_ROLES)}

        ids = []
        names = []
        for kind in ASSET_KINDS:
            n = counts[kind]
            ids.append(_names(KIND_TYPES[kind].replace("_", "-") + "-", n))
            if kind == "Host":
                names.append(np.concatenate([
                    _names(prefix, int(c), 5)
                    for prefix, c in zip(("web-", "app-", "db-", "ws-", "dc-"), role_counts)
                ]))
            else:
                names.append(_names({"LoadBalancer": "lb-", "Container": "ctr-", "User": "user.",
                                     "Group": "grp-", "Role": "role-", "ServiceAccount": "svc-",
                                     "DataStore": "ds-", "Secret": "secret-"}[kind], n, 5))
        self.node_ids = np.concatenate(ids)
        self.node_names = np.concatenate(names)

    def _range(self, kind: str) -> tuple[int, int]:
        lo = self.offset[kind]
        return lo, lo + self.counts[kind]

    def _uniform(self, lo_hi: tuple[int, int], size: int) -> np.ndarray:
        lo, hi = lo_hi
        return lo + self.rng.integers(0, hi - lo, size=size)

    # -- node features -----------------------------------------------------------------------------------------

    def _asset_features(self) -> None:
        rng = self.rng
        n = self.num_assets
        node = {name: np.full(n, np.nan) for name in NODE_COLUMNS}
        node["kind"] = self.kind.astype(np.float64)
        self.node = node

        def put(name: str, kind_or_range: str | tuple[int, int], values: np.ndarray) -> None:
            lo, hi = self._range(kind_or_range) if isinstance(kind_or_range, str) else kind_or_range
            node[name][lo:hi] = values

        def flags(count: int, share: float, first: bool = False) -> np.ndarray:
            values = (rng.random(count) < share).astype(np.float64)
            if first and count:
                values[0] = 1.0
            return values

        c = self.counts
        # Load balancers: most are internet-facing (entry points), half with a WAF.
        put("internet_exposed", "LoadBalancer", flags(c["LoadBalancer"], 0.85, first=True))
        put("waf_enabled", "LoadBalancer", flags(c["LoadBalancer"], 0.5))
        # Hosts by role.
        windows_share = np.array([0.2, 0.2, 0.15, 0.85, 1.0])[self.host_role]
        macos_share = np.array([0.0, 0.0, 0.0, 0.1, 0.0])[self.host_role]
        draw = rng.random(c["Host"])
        os_code = np.where(draw < windows_share, 1.0, np.where(draw < windows_share + macos_share, 2.0, 0.0))
        put("os", "Host", os_code)
        scale = np.array([45.0, 50.0, 60.0, 25.0, 20.0])[self.host_role]
        patch_age = rng.gamma(1.3, scale)
        neglected = rng.random(c["Host"]) < 0.08
        patch_age = patch_age + neglected * rng.uniform(200.0, 900.0, c["Host"])
        put("patch_age_days", "Host", np.round(patch_age))
        put("edr_enabled", "Host", (rng.random(c["Host"]) < np.array([0.55, 0.55, 0.6, 0.85, 0.95])[self.host_role])
            .astype(np.float64))
        exposed_share = np.array([self.config.exposed_web_share, self.config.misconfig_exposed_share, 0.0,
                                  self.config.misconfig_exposed_share, 0.0])[self.host_role]
        exposed = (rng.random(c["Host"]) < exposed_share).astype(np.float64)
        put("internet_exposed", "Host", exposed)
        critical = (self.host_role == HOST_ROLES.index("domain_controller")) | (
            (self.host_role == HOST_ROLES.index("data")) & (rng.random(c["Host"]) < 0.05))
        put("critical", "Host", critical.astype(np.float64))
        # Containers.
        put("privileged", "Container", flags(c["Container"], 0.1))
        put("run_as_root", "Container", flags(c["Container"], 0.45))
        # Users and service accounts.
        user_priv = flags(c["User"], 0.05, first=True)
        put("privileged", "User", user_priv)
        put("mfa_enabled", "User", (rng.random(c["User"]) < np.where(user_priv == 1.0, 0.9, 0.65))
            .astype(np.float64))
        put("password_age_days", "User", np.round(rng.exponential(120.0, c["User"])))
        put("privileged", "ServiceAccount", flags(c["ServiceAccount"], 0.2, first=True))
        put("mfa_enabled", "ServiceAccount", flags(c["ServiceAccount"], 0.03))
        put("password_age_days", "ServiceAccount", np.round(rng.exponential(300.0, c["ServiceAccount"])))
        # Groups: the first tenth are privileged (domain-admin-like).
        self.n_priv_groups = max(1, int(round(0.1 * c["Group"])))
        group_priv = np.zeros(c["Group"])
        group_priv[: self.n_priv_groups] = 1.0
        put("privileged", "Group", group_priv)
        # Roles.
        role_priv = flags(c["Role"], 0.15, first=True)
        put("privileged", "Role", role_priv)
        role_critical = role_priv * flags(c["Role"], 0.2, first=True)
        put("critical", "Role", role_critical)
        permissions = np.round(rng.lognormal(2.3, 0.9, c["Role"])) + 1.0
        put("permissions_count", "Role", permissions * np.where(role_priv == 1.0, 3.0, 1.0))
        # Data stores and secrets.
        self.engine = rng.choice(len(ENGINES), size=c["DataStore"], p=[0.3, 0.2, 0.15, 0.1, 0.25])
        put("critical", "DataStore", flags(c["DataStore"], 0.15, first=True))
        put("encrypted", "DataStore", flags(c["DataStore"], 0.7))
        put("critical", "Secret", flags(c["Secret"], 0.1, first=True))
        put("encrypted", "Secret", flags(c["Secret"], 0.9))
        put("rotation_age_days", "Secret", np.round(rng.exponential(200.0, c["Secret"])))
        # Markers are never missing on the kinds that carry them: unset means false.
        for name, kinds in (("internet_exposed", ("LoadBalancer", "Host")),
                            ("critical", ("Host", "Role", "DataStore", "Secret"))):
            for kind in kinds:
                lo, hi = self._range(kind)
                node[name][lo:hi] = np.nan_to_num(node[name][lo:hi])
        node["hardening"] = rng.normal(0.0, 0.4, n)

    def _software(self) -> None:
        rng = self.rng
        n_sw, n_vuln = self.counts["Software"], self.counts["Vulnerability"]
        product = rng.integers(0, len(_SOFTWARE_PRODUCTS), n_sw)
        self.software_product = product
        major = rng.integers(1, 12, n_sw).astype(np.dtypes.StringDType())
        minor = rng.integers(0, 20, n_sw).astype(np.dtypes.StringDType())
        patch = rng.integers(0, 30, n_sw).astype(np.dtypes.StringDType())
        self.software_version = np.strings.add(np.strings.add(np.strings.add(np.strings.add(major, "."), minor), "."),
                                               patch).astype(object)
        # Popularity of a software version among assets, and (independently) how buggy it is.
        self.software_popularity = 1.0 / np.arange(1, n_sw + 1) ** 0.9
        self.software_popularity /= self.software_popularity.sum()
        bugginess = rng.gamma(0.6, 1.0, n_sw) + 1e-3
        self.vuln_software = rng.choice(n_sw, size=n_vuln, p=bugginess / bugginess.sum())
        cvss = np.clip(rng.normal(7.0, 1.6, n_vuln), 1.0, 10.0)
        self.vuln_cvss = np.round(cvss, 1)
        exploit = rng.random(n_vuln) < 0.04 + 0.2 * (self.vuln_cvss >= 9.0) + 0.08 * (self.vuln_cvss >= 7.0)
        self.vuln_exploit = exploit
        epss = np.where(exploit, rng.beta(0.8, 1.5, n_vuln), rng.beta(0.3, 12.0, n_vuln))
        self.vuln_epss = np.round(epss, 5)
        # Unique synthetic CVE ids: a permutation of (year, number) slots.
        slots = rng.permutation(25 * 90_000)[:n_vuln]
        year = (2000 + slots // 90_000).astype(np.dtypes.StringDType())
        number = (10_000 + slots % 90_000).astype(np.dtypes.StringDType())
        self.vuln_ids = np.strings.add(np.strings.add(np.strings.add("CVE-", year), "-"), number).astype(object)

    # -- attack edges ------------------------------------------------------------------------------------------

    def _attack_edges(self) -> None:
        rng = self.rng
        cfg = self.config
        c = self.counts
        H = self.hosts
        web, app, data, ws, dc = (H[r] for r in HOST_ROLES)
        servers = (web[0], data[1])  # web, app and data hosts are contiguous
        web_app = (web[0], app[1])
        lb_lo, _ = self._range("LoadBalancer")
        n_web = web[1] - web[0]
        users, sas, groups, roles = (self._range(k) for k in ("User", "ServiceAccount", "Group", "Role"))
        stores, secrets, containers = (self._range(k) for k in ("DataStore", "Secret", "Container"))
        n_lb = c["LoadBalancer"]
        buf = _EdgeBuffer()

        def fanout(lo_hi: tuple[int, int], lam: float, extra: int = 0) -> np.ndarray:
            lo, hi = lo_hi
            return np.repeat(np.arange(lo, hi), rng.poisson(lam, hi - lo) + extra)

        def some(lo_hi: tuple[int, int], share: float) -> np.ndarray:
            lo, hi = lo_hi
            return lo + np.flatnonzero(rng.random(hi - lo) < share)

        def ports(values: tuple[int, ...], p: tuple[float, ...], size: int) -> np.ndarray:
            return rng.choice(np.array(values), size=size, p=np.array(p))

        def store_port(store: np.ndarray) -> np.ndarray:
            return _ENGINE_PORT[self.engine[store - stores[0]]]

        # Network: internet -> LB -> web -> app -> data; corp lateral movement; misconfigured shortcuts.
        lb_of_web = rng.integers(0, n_lb, n_web)
        lb_of_web[: min(n_lb, n_web)] = np.arange(min(n_lb, n_web))
        web_hosts = np.arange(*web)
        buf.add("CAN_REACH", lb_lo + lb_of_web, web_hosts, port=ports((443, 80), (0.8, 0.2), n_web))
        second = some(web, 0.3)
        buf.add("CAN_REACH", lb_lo + rng.integers(0, n_lb, len(second)), second,
                port=ports((443, 80), (0.8, 0.2), len(second)))
        src = fanout(self._range("LoadBalancer"), 0.5)
        buf.add("CAN_REACH", src, self._uniform(app, len(src)), port=8080)
        src = fanout(web, 1.5, extra=1)
        buf.add("CAN_REACH", src, self._uniform(app, len(src)), port=ports((8080, 443, 22), (0.6, 0.3, 0.1), len(src)))
        src = fanout(app, 1.2)
        buf.add("CAN_REACH", src, self._uniform(app, len(src)),
                port=ports((8080, 443, 22, 6379), (0.5, 0.2, 0.2, 0.1), len(src)))
        dst = fanout(data, 1.0, extra=1)
        buf.add("CAN_REACH", self._uniform(app, len(dst)), dst, port=ports((5432, 3306, 22), (0.45, 0.35, 0.2), len(dst)))
        dst = fanout(stores, 2.0, extra=1)
        buf.add("CAN_REACH", self._uniform(app, len(dst)), dst, port=store_port(dst))
        dst = fanout(stores, 0.8)
        buf.add("CAN_REACH", self._uniform(data, len(dst)), dst, port=store_port(dst))
        dst = fanout(containers, 1.0)
        buf.add("CAN_REACH", self._uniform(web_app, len(dst)), dst, port=ports((8080, 8443), (0.7, 0.3), len(dst)))
        src = fanout(ws, 2.0)
        buf.add("CAN_REACH", src, self._uniform(ws, len(src)), port=ports((445, 3389, 22), (0.6, 0.3, 0.1), len(src)))
        src = some(ws, 0.5)
        buf.add("CAN_REACH", src, self._uniform(dc, len(src)), port=445)
        src = fanout(ws, 0.4)
        buf.add("CAN_REACH", src, self._uniform(app, len(src)), port=ports((22, 443, 3389), (0.4, 0.4, 0.2), len(src)))
        src = some(app, cfg.shortcut_share)
        buf.add("CAN_REACH", src, self._uniform(dc, len(src)), port=445)
        src = some(web, 3 * cfg.shortcut_share)
        buf.add("CAN_REACH", src, self._uniform(ws, len(src)), port=ports((3389, 445), (0.5, 0.5), len(src)))
        src = some(web, cfg.shortcut_share)
        dst = self._uniform(stores, len(src))
        buf.add("CAN_REACH", src, dst, port=store_port(dst))
        src = some(web, cfg.shortcut_share)
        buf.add("CAN_REACH", src, self._uniform(data, len(src)), port=ports((5432, 3306), (0.5, 0.5), len(src)))

        # Containers live on web/app hosts; some can break out to their host.
        n_cont = c["Container"]
        on_app = rng.random(n_cont) < 0.7
        self.container_host = np.where(on_app, self._uniform(app, n_cont), self._uniform(web, n_cont))
        container_ids = np.arange(*containers)
        buf.add("HOSTS", self.container_host, container_ids)
        escapable = (self.node["privileged"][container_ids] == 1.0) | (self.node["run_as_root"][container_ids] == 1.0)
        escapable |= rng.random(n_cont) < 0.3
        buf.add("ESCAPES_TO", container_ids[escapable], self.container_host[escapable])

        # Sessions (BloodHound direction: host -> identity whose credentials sit in its memory).
        interactive, rdp, network, service = (SESSION_TYPES.index(s) for s in ("interactive", "rdp", "network", "service"))
        n_user = users[1] - users[0]
        self.user_workstation = self._uniform(ws, n_user)
        buf.add("HAS_SESSION", self.user_workstation, np.arange(*users), session_type=interactive)
        src = fanout(ws, 0.3)
        buf.add("HAS_SESSION", src, self._uniform(users, len(src)),
                session_type=rng.choice(np.array([rdp, network]), size=len(src)))
        priv_users = users[0] + np.flatnonzero(self.node["privileged"][users[0]:users[1]] == 1.0)
        priv_sas = sas[0] + np.flatnonzero(self.node["privileged"][sas[0]:sas[1]] == 1.0)
        counts = rng.poisson(3.0, len(priv_users))
        dst = np.repeat(priv_users, counts)
        buf.add("HAS_SESSION", self._uniform(servers, len(dst)), dst,
                session_type=rng.choice(np.array([rdp, network, interactive]), size=len(dst), p=[0.5, 0.4, 0.1]))
        src = fanout(dc, 1.0, extra=1)
        buf.add("HAS_SESSION", src, rng.choice(priv_users, size=len(src)),
                session_type=rng.choice(np.array([interactive, rdp, network]), size=len(src)))
        dst = fanout(sas, 1.0, extra=1)
        buf.add("HAS_SESSION", self._uniform(servers, len(dst)), dst, session_type=service)

        # Stored credentials (config files, browser stores, SSH keys).
        api_key, ssh_key, password, ntlm = (CREDENTIAL_TYPES.index(t) for t in ("api_key", "ssh_key", "password", "ntlm_hash"))
        dst = fanout(sas, 1.5)
        in_container = rng.random(len(dst)) < 0.5
        buf.add("STORES_CREDENTIAL", np.where(in_container, self._uniform(containers, len(dst)), self._uniform(app, len(dst))),
                dst, credential_type=rng.choice(np.array([api_key, ssh_key, password]), size=len(dst), p=[0.5, 0.2, 0.3]))
        src = some(ws, 0.1)
        buf.add("STORES_CREDENTIAL", src, self._uniform(users, len(src)),
                credential_type=rng.choice(np.array([password, ntlm]), size=len(src), p=[0.6, 0.4]))
        dst = np.repeat(priv_users, rng.poisson(0.5, len(priv_users)))
        buf.add("STORES_CREDENTIAL", self._uniform((app[0], data[1]), len(dst)), dst,
                credential_type=rng.choice(np.array([ssh_key, password]), size=len(dst)))
        src = some(web, 3 * cfg.shortcut_share)
        buf.add("STORES_CREDENTIAL", src, self._uniform(sas, len(src)),
                credential_type=rng.choice(np.array([api_key, password]), size=len(src)))

        # Group membership: a few privileged groups, popular ordinary ones.
        n_pg = self.n_priv_groups
        priv_groups = (groups[0], groups[0] + n_pg)
        plain_groups = (groups[0] + n_pg, groups[1])
        if plain_groups[1] == plain_groups[0]:
            plain_groups = groups
        popularity = 1.0 / np.arange(1, plain_groups[1] - plain_groups[0] + 1) ** 0.8
        popularity /= popularity.sum()

        def plain_group(size: int) -> np.ndarray:
            return plain_groups[0] + rng.choice(len(popularity), size=size, p=popularity)

        src = fanout(users, 1.0, extra=1)
        buf.add("MEMBER_OF", src, plain_group(len(src)))
        buf.add("MEMBER_OF", priv_users, self._uniform(priv_groups, len(priv_users)))
        src = some(sas, 0.3)
        buf.add("MEMBER_OF", src, plain_group(len(src)))
        src = priv_sas[rng.random(len(priv_sas)) < 0.3]
        buf.add("MEMBER_OF", src, self._uniform(priv_groups, len(src)))
        src = some(users, 0.3 * cfg.shortcut_share)
        buf.add("MEMBER_OF", src, self._uniform(priv_groups, len(src)))

        # Admin rights.
        dst = fanout(dc, 1.0, extra=1)
        buf.add("ADMIN_TO", self._uniform(priv_groups, len(dst)), dst)
        dst = some(servers, 0.5)
        buf.add("ADMIN_TO", self._uniform(priv_groups, len(dst)), dst)
        dst = some(ws, 0.3)
        buf.add("ADMIN_TO", self._uniform(plain_groups, len(dst)), dst)
        local_admin = rng.random(n_user) < 0.2
        buf.add("ADMIN_TO", np.arange(*users)[local_admin], self.user_workstation[local_admin])
        dst = some(app, 0.25)
        buf.add("ADMIN_TO", self._uniform(plain_groups, len(dst)), dst)
        dst = some(dc, 0.5)
        buf.add("ADMIN_TO", rng.choice(priv_users, size=len(dst)), dst)
        dst = some(servers, cfg.shortcut_share)
        buf.add("ADMIN_TO", self._uniform(users, len(dst)), dst)

        # Cloud IAM: principals assume roles; roles, groups and service accounts reach data.
        dst = fanout(roles, 1.5, extra=1)
        role_priv = self.node["privileged"][dst] == 1.0
        source_kind = rng.choice(3, size=len(dst), p=[0.5, 0.35, 0.15])
        tiered = role_priv & (rng.random(len(dst)) < 0.7)
        any_user = self._uniform(users, len(dst))
        any_sa = self._uniform(sas, len(dst))
        src = np.where(source_kind == 0, np.where(tiered, rng.choice(priv_users, size=len(dst)), any_user),
                       np.where(source_kind == 1, np.where(tiered, rng.choice(priv_sas, size=len(dst)), any_sa),
                                self._uniform(roles, len(dst))))
        mfa_share = np.array([0.4, 0.05, 0.1])[source_kind]
        buf.add("CAN_ASSUME", src, dst, requires_mfa=(rng.random(len(dst)) < mfa_share).astype(np.int64))

        def grants(src_range: tuple[int, int], dst: np.ndarray) -> None:
            buf.add("CAN_ACCESS", self._uniform(src_range, len(dst)), dst,
                    permission=rng.choice(len(PERMISSIONS), size=len(dst), p=[0.5, 0.35, 0.15]))

        grants(roles, fanout(stores, 1.0, extra=1))
        grants(plain_groups, fanout(stores, 0.5))
        grants(sas, fanout(stores, 0.4))
        grants(roles, fanout(secrets, 0.8, extra=1))
        grants(sas, fanout(secrets, 0.6))
        grants(plain_groups, fanout(secrets, 0.2))
        broad = np.repeat(some(roles, cfg.shortcut_share), 5)
        in_secrets = rng.random(len(broad)) < 0.5
        targets = np.where(in_secrets, self._uniform(secrets, len(broad)), self._uniform(stores, len(broad)))
        buf.add("CAN_ACCESS", broad, targets, permission=PERMISSIONS.index("admin"))

        edges = buf.finish(self.num_assets)
        self.rel, self.src, self.dst = edges["rel"], edges["src"], edges["dst"]
        self.edge = {name: edges[name] for name in _EdgeBuffer._COLUMNS}

    # -- context edges and vulnerability features ----------------------------------------------------------------

    def _context_edges(self) -> None:
        rng = self.rng
        c = self.counts
        lb, host, container, store = (self._range(k) for k in ("LoadBalancer", "Host", "Container", "DataStore"))
        zone_of_host = _HOST_ROLE_ZONE[self.host_role]
        zone_size = np.bincount(zone_of_host, minlength=len(ZONES)).astype(np.float64)
        zone_size[0] += c["LoadBalancer"]
        zone_size[2] += c["DataStore"]
        zone_size += 1.0
        subnets_per_zone = _split(c["Subnet"], zone_size)
        groups_per_zone = _split(c["SecurityGroup"], zone_size)
        self.subnet_zone = np.repeat(np.arange(len(ZONES)), subnets_per_zone)
        self.sg_zone = np.repeat(np.arange(len(ZONES)), groups_per_zone)
        self.counts["Subnet"] = int(subnets_per_zone.sum())
        self.counts["SecurityGroup"] = int(groups_per_zone.sum())
        self.sg_ingress = rng.random(len(self.sg_zone)) < np.where(self.sg_zone == 0, 0.8, 0.02)
        subnet_start = np.concatenate(([0], np.cumsum(subnets_per_zone)[:-1]))
        sg_start = np.concatenate(([0], np.cumsum(groups_per_zone)[:-1]))

        def in_zone(zone: np.ndarray, start: np.ndarray, per_zone: np.ndarray) -> np.ndarray:
            return start[zone] + np.floor(rng.random(len(zone)) * per_zone[zone]).astype(np.int64)

        # Network assets in zone order: LBs (dmz), hosts, data stores (data); containers join their host's subnet.
        network = np.concatenate([np.arange(*lb), np.arange(*host), np.arange(*store)])
        network_zone = np.concatenate([np.zeros(c["LoadBalancer"], np.int64), zone_of_host,
                                       np.full(c["DataStore"], 2, np.int64)])
        subnet = in_zone(network_zone, subnet_start, subnets_per_zone)
        host_subnet = subnet[c["LoadBalancer"]: c["LoadBalancer"] + c["Host"]]
        container_subnet = host_subnet[self.container_host - host[0]]
        self.in_subnet = (np.concatenate([network, np.arange(*container)]), np.concatenate([subnet, container_subnet]))

        twice = rng.random(len(network)) < 0.3
        sg_assets = np.concatenate([network, network[twice]])
        sg_zone = np.concatenate([network_zone, network_zone[twice]])
        self.protected_by = _dedupe_pairs(sg_assets, in_zone(sg_zone, sg_start, groups_per_zone))

        runners = np.concatenate([np.arange(*lb), np.arange(*host), np.arange(*container), np.arange(*store)])
        per_runner = np.concatenate([
            np.ones(c["LoadBalancer"], np.int64), 1 + rng.poisson(1.5, c["Host"]),
            1 + rng.poisson(0.5, c["Container"]), np.ones(c["DataStore"], np.int64),
        ])
        runner = np.repeat(runners, per_runner)
        software = rng.choice(c["Software"], size=len(runner), p=self.software_popularity)
        self.runs = _dedupe_pairs(runner, software)

    def _vulnerability_features(self) -> None:
        n_sw = self.counts["Software"]
        sw_count = np.bincount(self.vuln_software, minlength=n_sw).astype(np.float64)
        sw_cvss = np.zeros(n_sw)
        np.maximum.at(sw_cvss, self.vuln_software, self.vuln_cvss)
        sw_epss = np.zeros(n_sw)
        np.maximum.at(sw_epss, self.vuln_software, self.vuln_epss)
        sw_exploit = np.zeros(n_sw)
        np.maximum.at(sw_exploit, self.vuln_software, self.vuln_exploit.astype(np.float64))
        runner, software = self.runs
        n = self.num_assets
        count = np.bincount(runner, weights=sw_count[software], minlength=n)
        cvss = np.zeros(n)
        np.maximum.at(cvss, runner, sw_cvss[software])
        epss = np.zeros(n)
        np.maximum.at(epss, runner, sw_epss[software])
        exploit = np.zeros(n)
        np.maximum.at(exploit, runner, sw_exploit[software])
        runs_software = np.zeros(n, dtype=bool)
        runs_software[runner] = True
        for name, values in (("vuln_count", count), ("max_cvss", cvss), ("epss_max", epss),
                             ("exploit_available", exploit)):
            self.node[name] = np.where(runs_software, values, np.nan)

    # -- output --------------------------------------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        return self.num_assets + sum(self.counts[k] for k in CONTEXT_LABELS)

    @property
    def edge_count(self) -> int:
        return (len(self.src) + len(self.in_subnet[0]) + len(self.protected_by[0]) + len(self.runs[0])
                + len(self.vuln_software))

    def property_graph(self, outcome: np.ndarray, labelled: np.ndarray) -> PropertyGraph:
        graph = PropertyGraph()
        for kind in ASSET_KINDS:
            graph.nodes.append(self._asset_node_set(kind))
        graph.nodes.extend(self._context_node_sets())
        exploited = np.full(len(self.src), None, dtype=object)
        exploited[labelled] = outcome[labelled].astype(object)
        for code, rel_type in enumerate(ATTACK_REL_TYPES):
            m = np.flatnonzero(self.rel == code)
            properties = {name: self._edge_column(name, m) for name in EDGE_FEATURES.get(rel_type, {})}
            properties[LABEL_PROPERTY] = exploited[m]
            graph.edges.append(EdgeSet(rel_type, KEY_LABEL, KEY_LABEL, self.node_ids[self.src[m]],
                                       self.node_ids[self.dst[m]], properties))
        subnet_ids = _names("subnet-", self.counts["Subnet"], 4)
        sg_ids = _names("sg-", self.counts["SecurityGroup"], 5)
        software_ids = _names("sw-", self.counts["Software"])
        asset, subnet = self.in_subnet
        graph.edges.append(EdgeSet("IN_SUBNET", KEY_LABEL, "Subnet", self.node_ids[asset], subnet_ids[subnet]))
        asset, group = self.protected_by
        graph.edges.append(EdgeSet("PROTECTED_BY", KEY_LABEL, "SecurityGroup", self.node_ids[asset], sg_ids[group]))
        asset, software = self.runs
        graph.edges.append(EdgeSet("RUNS", KEY_LABEL, "Software", self.node_ids[asset], software_ids[software]))
        order = np.lexsort((np.arange(len(self.vuln_software)), self.vuln_software))
        graph.edges.append(EdgeSet("HAS_VULNERABILITY", "Software", "Vulnerability",
                                   software_ids[self.vuln_software[order]], self.vuln_ids[order]))
        return graph

    def _edge_column(self, name: str, m: np.ndarray) -> np.ndarray:
        if name == "port":
            return self.edge["port"][m].copy()
        if name == "protocol":
            lookup = np.array([PORT_PROTOCOLS[p] for p in PORTS], dtype=object)
            return lookup[np.searchsorted(np.array(PORTS), self.edge["port"][m])]
        if name == "requires_mfa":
            return self.edge["requires_mfa"][m] == 1
        vocab = {"session_type": SESSION_TYPES, "credential_type": CREDENTIAL_TYPES, "permission": PERMISSIONS}[name]
        return np.asarray(vocab, dtype=object)[self.edge[name][m]]

    def _asset_node_set(self, kind: str) -> NodeSet:
        lo, hi = self._range(kind)
        n = hi - lo
        properties: dict[str, np.ndarray] = {
            "type": np.full(n, KIND_TYPES[kind], dtype=object),
            "name": self.node_names[lo:hi],
        }
        for name, (feature_type, values) in NODE_FEATURES[kind].items():
            if name == "host_role":
                column = np.asarray(HOST_ROLES, dtype=object)[self.host_role]
            elif name == "zone":
                column = np.asarray(ZONES, dtype=object)[_HOST_ROLE_ZONE[self.host_role]]
            elif name == "engine":
                column = np.asarray(ENGINES, dtype=object)[self.engine]
            elif name == "os":
                column = np.asarray(OS_VALUES, dtype=object)[self.node["os"][lo:hi].astype(np.int64)]
            elif feature_type == "boolean":
                column = self.node[name][lo:hi] == 1.0
            elif name in ("vuln_count", "member_count"):
                column = self._count_column(name, lo, hi)
            else:
                column = self.node[name][lo:hi].copy()
            if name in _MAY_BE_MISSING and self.config.missing_share > 0:
                missing = self.rng.random(n) < self.config.missing_share
                if column.dtype == np.float64:
                    column[missing] = np.nan
                else:
                    column = column.astype(object)
                    column[missing] = None
            properties[name] = column
        return NodeSet((KEY_LABEL, kind), self.node_ids[lo:hi], properties)

    def _count_column(self, name: str, lo: int, hi: int) -> np.ndarray:
        if name == "member_count":
            member_of = self.rel == ATTACK_REL_TYPES.index("MEMBER_OF")
            return np.bincount(self.dst[member_of] - lo, minlength=hi - lo)[: hi - lo].astype(np.int64)
        return np.nan_to_num(self.node[name][lo:hi]).astype(np.int64)

    def _context_node_sets(self) -> list[NodeSet]:
        c = self.counts
        zones = np.asarray(ZONES, dtype=object)
        n_sub = c["Subnet"]
        subnet_ids = _names("subnet-", n_sub, 4)
        rank = np.arange(n_sub) - np.searchsorted(self.subnet_zone, self.subnet_zone)
        second = (self.subnet_zone * 64 + rank // 256).astype(np.dtypes.StringDType())
        third = (rank % 256).astype(np.dtypes.StringDType())
        cidr = np.strings.add(np.strings.add(np.strings.add(np.strings.add("10.", second), "."), third), ".0/24")
        subnets = NodeSet(("Subnet",), subnet_ids, {
            "name": np.strings.add(np.strings.add(zones[self.subnet_zone].astype(str), "-"),
                                   rank.astype(np.dtypes.StringDType())).astype(object),
            "zone": zones[self.subnet_zone],
            "cidr": cidr.astype(object),
        })
        n_sg = c["SecurityGroup"]
        groups = NodeSet(("SecurityGroup",), _names("sg-", n_sg, 5), {
            "name": np.strings.add(np.strings.add(zones[self.sg_zone].astype(str), "-sg-"),
                                   np.arange(n_sg).astype(np.dtypes.StringDType())).astype(object),
            "zone": zones[self.sg_zone],
            "allows_internet_ingress": self.sg_ingress,
        })
        products = np.asarray([p for p, _ in _SOFTWARE_PRODUCTS], dtype=object)
        vendors = np.asarray([v for _, v in _SOFTWARE_PRODUCTS], dtype=object)
        software = NodeSet(("Software",), _names("sw-", c["Software"]), {
            "name": products[self.software_product],
            "vendor": vendors[self.software_product],
            "version": self.software_version,
        })
        vulnerabilities = NodeSet(("Vulnerability",), self.vuln_ids, {
            "cve": self.vuln_ids.copy(),
            "cvss": self.vuln_cvss,
            "epss": self.vuln_epss,
            "exploit_available": self.vuln_exploit.copy(),
        })
        return [subnets, groups, software, vulnerabilities]


def _dedupe_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    key = a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b
    unique = np.unique(key)
    width = int(b.max(initial=0)) + 1
    return unique // width, unique % width
