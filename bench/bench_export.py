"""Benchmark: exporting the attack subgraph from Neo4j - GDS projection vs plain Cypher vs the raw driver.

All three read the same data of one synthetic graph (about 100k nodes / 500k relationships by default) from
a throw-away local Neo4j (or $NEO4J_URI, whose database is CLEARED first):

* ``gds``     - `gnn_neo4j.export.export_attack_graph(method="gds")`: projection + graphdatascience streaming
                + the string/boolean properties GDS cannot project, assembled into `AttackGraphData`;
* ``cypher``  - `export_attack_graph(method="cypher")`: the same result through `GraphRunner`;
* ``driver``  - the raw neo4j driver running the Cypher export's queries and keeping only the values
                (no assembly): the floor for reading these rows over Bolt.

Each method runs ``--repeat`` times after one warm-up; the median is printed with its ratio to ``driver``.

Usage::

    python bench/bench_export.py [--assets 112000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from _server import bench_server, clear

from gnn_neo4j.db import GraphRunner
from gnn_neo4j.export import _edge_props, _kind_filter, _node_props, export_attack_graph
from gnn_neo4j.loader import load_graph
from gnn_neo4j.mapping import load_mapping
from gnn_neo4j.synthetic import GeneratorConfig, SyntheticDataGenerator


def raw_driver_read(runner: GraphRunner, mapping) -> int:
    """The Cypher export's queries through the bare driver; returns the number of rows read."""
    key, id_prop = mapping.key_label, mapping.id_property
    node_props = ", ".join(f"n.`{p}`" for p in _node_props(mapping))
    edge_props = ", ".join(f"r.`{p}`" for p in _edge_props(mapping))
    rows = 0
    with runner.driver.session(database=runner.database) as session:
        result = session.run(f"MATCH (n:`{key}`) WHERE {_kind_filter(mapping, 'n')} "
                             f"RETURN n.`{id_prop}`, labels(n), {node_props}")
        rows += len(result.values())
        for rel_type in mapping.rel_types:
            result = session.run(f"MATCH (a:`{key}`)-[r:`{rel_type}`]->(b:`{key}`) "
                                 f"RETURN a.`{id_prop}`, b.`{id_prop}`, {edge_props}")
            rows += len(result.values())
    return rows


def timed(fn, repeat: int) -> float:
    fn()  # warm-up (query plans, page cache, JIT)
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=112_000, help="target node count (112k gives ~500k relationships)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    env = SyntheticDataGenerator(args.seed, assets=args.assets, config=GeneratorConfig(simulate=False)).generate_all()
    mapping = load_mapping("canonical")
    with bench_server() as settings, GraphRunner(settings) as runner:
        clear(runner)
        load_graph(runner, env.graph, atomic_limit=0)
        data = export_attack_graph(runner, mapping, "cypher").data
        print(f"graph: {env.graph.node_count} nodes, {env.graph.edge_count} relationships; "
              f"attack subgraph: {data.num_nodes} nodes, {data.num_edges} attack edges")
        results = {
            "driver": timed(lambda: raw_driver_read(runner, mapping), args.repeat),
            "cypher": timed(lambda: export_attack_graph(runner, mapping, "cypher"), args.repeat),
            "gds": timed(lambda: export_attack_graph(runner, mapping, "gds"), args.repeat),
        }
    base = results["driver"]
    print(f"{'method':>8} {'median s':>9} {'x driver':>9} {'edges/s':>12}")
    for method, seconds in results.items():
        print(f"{method:>8} {seconds:>9.2f} {seconds / base:>9.2f} {data.num_edges / seconds:>12,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
