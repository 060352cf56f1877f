"""Benchmark: how fast the synthetic generator builds environments (nodes/s, relationships/s).

Generation here means everything `SyntheticDataGenerator.generate_all` does with ``simulate=False``: the world
model, the hidden edge exploit probabilities, the sampled ``exploited`` labels and the `PropertyGraph`. With
``--simulate`` the Monte Carlo node compromise probabilities and the exact top-K paths per crown jewel are
included too (they dominate from ~10^5 nodes on). With ``--load`` each graph is also loaded into a throw-away
local Neo4j (or $NEO4J_URI - whose database is CLEARED first) with `gnn_neo4j.loader.load_graph` in batches,
and the load rate (rows/s = nodes + relationships per second) is printed beside the generation rate.

Usage::

    python bench/bench_generate.py                      # 10k, 100k and 1M nodes
    python bench/bench_generate.py --sizes 10000,50000 --repeat 3 --simulate
    python bench/bench_generate.py --load               # + load rates into Neo4j
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sys
import time
from dataclasses import dataclass

from gnn_neo4j.synthetic import GeneratorConfig, SyntheticDataGenerator


@dataclass
class GenerationResult:
    assets: int
    nodes: int
    relationships: int
    seconds: float

    @property
    def nodes_per_second(self) -> float:
        return self.nodes / self.seconds

    @property
    def relationships_per_second(self) -> float:
        return self.relationships / self.seconds


def measure_load(settings, graph) -> tuple[float, float]:
    """Clear the database, load ``graph`` in batches; return (seconds, rows per second)."""
    from _server import clear

    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.loader import load_graph

    with GraphRunner(settings) as runner:
        clear(runner)
        report = load_graph(runner, graph, atomic_limit=0)
    return report.seconds, report.rows_per_second


def measure_generation(assets: int, seed: int = 0, simulate: bool = False, repeat: int = 1,
                       settings=None) -> tuple[GenerationResult, tuple[float, float] | None]:
    """Generate an environment of about ``assets`` nodes ``repeat`` times and keep the fastest run (+ its load)."""
    best = None
    load = None
    for _ in range(repeat):
        began = time.perf_counter()
        env = SyntheticDataGenerator(seed, assets=assets, config=GeneratorConfig(simulate=simulate)).generate_all()
        seconds = time.perf_counter() - began
        result = GenerationResult(assets, env.graph.node_count, env.graph.edge_count, seconds)
        if best is None or result.seconds < best.seconds:
            best = result
        if settings is not None and load is None:
            load = measure_load(settings, env.graph)
        del env
    return best, load


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--sizes takes comma-separated integers, got {text!r}") from None
    if not sizes:
        raise argparse.ArgumentTypeError("--sizes is empty")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000, 1_000_000],
                        help="comma-separated target node counts (default 10000,100000,1000000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the fastest is reported")
    parser.add_argument("--simulate", action="store_true",
                        help="include Monte Carlo node compromise and exact top-K paths")
    parser.add_argument("--load", action="store_true", help="also load each graph into Neo4j and print the load rate")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        settings = None
        if args.load:
            from _server import bench_server

            settings = stack.enter_context(bench_server())
        print(f"{'target':>10} {'nodes':>10} {'rels':>10} {'seconds':>9} {'nodes/s':>11} {'rels/s':>11} "
              f"{'peak RSS MiB':>13}" + (f" {'load s':>9} {'load rows/s':>12}" if args.load else ""))
        for assets in args.sizes:
            result, load = measure_generation(assets, seed=args.seed, simulate=args.simulate, repeat=args.repeat,
                                              settings=settings)
            peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            line = (f"{result.assets:>10} {result.nodes:>10} {result.relationships:>10} {result.seconds:>9.2f} "
                    f"{result.nodes_per_second:>11,.0f} {result.relationships_per_second:>11,.0f} {peak_mib:>13,.0f}")
            if load is not None:
                line += f" {load[0]:>9.1f} {load[1]:>12,.0f}"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
