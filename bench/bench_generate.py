"""Benchmark: how fast the synthetic generator builds environments (nodes/s, relationships/s).

Generation here means everything `SyntheticDataGenerator.generate_all` does with ``simulate=False``: the world
model, the hidden edge exploit probabilities, the sampled ``exploited`` labels and the `PropertyGraph`. With
``--simulate`` the Monte Carlo node compromise probabilities and the exact top-K paths per crown jewel are
included too (they dominate from ~10^5 nodes on). Loading into Neo4j is a separate measurement
(`gnn_neo4j.loader.load_graph`).

Usage::

    python bench/bench_generate.py                      # 10k, 100k and 1M nodes
    python bench/bench_generate.py --sizes 10000,50000 --repeat 3 --simulate
"""

from __future__ import annotations

import argparse
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


def measure_generation(assets: int, seed: int = 0, simulate: bool = False, repeat: int = 1) -> GenerationResult:
    """Generate an environment of about ``assets`` nodes ``repeat`` times and keep the fastest run."""
    best = None
    for _ in range(repeat):
        began = time.perf_counter()
        env = SyntheticDataGenerator(seed, assets=assets, config=GeneratorConfig(simulate=simulate)).generate_all()
        seconds = time.perf_counter() - began
        result = GenerationResult(assets, env.graph.node_count, env.graph.edge_count, seconds)
        if best is None or result.seconds < best.seconds:
            best = result
        del env
    return best


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
    args = parser.parse_args(argv)

    print(f"{'target':>10} {'nodes':>10} {'rels':>10} {'seconds':>9} {'nodes/s':>11} {'rels/s':>11} {'peak RSS MiB':>13}")
    for assets in args.sizes:
        result = measure_generation(assets, seed=args.seed, simulate=args.simulate, repeat=args.repeat)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{result.assets:>10} {result.nodes:>10} {result.relationships:>10} {result.seconds:>9.2f} "
              f"{result.nodes_per_second:>11,.0f} {result.relationships_per_second:>11,.0f} {peak_mib:>13,.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
