"""`gnn-neo4j paths` and `gnn-neo4j report`: read the current generation through the gnn.* procedures."""

from __future__ import annotations

import json
from typing import Any

import click

from gnn_neo4j.cli import pass_settings
from gnn_neo4j.settings import Settings


def _text(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, list, dict)) or value is None else str(value)


@click.command()
@click.option("--limit", default=10, show_default=True, help="Ranked paths to show (current generation).")
@click.option("--source", help="Asset id: compute the most probable paths from here ...")
@click.option("--target", help="... to this asset id, now, from gnn_exploit_prob (gnn.attackPaths).")
@click.option("--k", default=5, show_default=True)
@click.option("--max-hops", default=8, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def paths(settings: Settings, limit: int, source: str | None, target: str | None, k: int, max_hops: int,
          as_json: bool) -> None:
    """Show the ranked attack paths of the current generation, or the k best paths between two assets."""
    from gnn_neo4j.db import GraphRunner

    if (source is None) != (target is None):
        raise click.UsageError("give both --source and --target, or neither")
    with GraphRunner(settings) as runner:
        if source is None:
            rows = runner.read(
                "CALL gnn.rankedPaths($limit) YIELD rank, score, hops, nodeIds, relTypes "
                "RETURN rank, score, hops, nodeIds AS node_ids, relTypes AS rel_types", {"limit": limit})
        else:
            rows = runner.read(
                "CALL gnn.attackPaths($source, $target, $k, $maxHops) YIELD path, probability, hops, rank "
                "RETURN rank, probability AS score, hops, [n IN nodes(path) | n.id] AS node_ids, "
                "[r IN relationships(path) | type(r)] AS rel_types",
                {"source": source, "target": target, "k": k, "maxHops": max_hops})
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no paths (no complete generation yet, or none within the hop bound)")
    for row in rows:
        hops = " ".join(f"-[{t}]->" + n for t, n in zip(row["rel_types"], row["node_ids"][1:]))
        click.echo(f"#{row['rank']:<3} p={row['score']:.4f} {row['node_ids'][0]} {hops}")


@click.command()
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def report(settings: Settings, limit: int, as_json: bool) -> None:
    """Summarise the current generation: run, top risks, top paths, label coverage."""
    from gnn_neo4j.db import GraphRunner
    from gnn_neo4j.mapping import load_mapping

    mapping = load_mapping(settings.mapping)
    with GraphRunner(settings) as runner:
        status = runner.read("CALL gnn.status() YIELD generation, modelVersion, startedAt, finishedAt, counts, metrics "
                             "RETURN *")[0]
        risks = runner.read("CALL gnn.topRisks($n) YIELD node, id, risk, rank "
                            "RETURN rank, id, coalesce(node.name, id) AS name, risk", {"n": limit})
        top_paths = runner.read("CALL gnn.rankedPaths($n) YIELD score, nodeIds RETURN score, nodeIds AS node_ids",
                                {"n": limit})
        coverage = runner.read(
            f"MATCH (:`{mapping.key_label}`)-[r]->(:`{mapping.key_label}`) WHERE type(r) IN $types "
            f"RETURN type(r) AS type, count(*) AS edges, count(r.`{mapping.label_property or 'exploited'}`) AS outcomes, "
            f"count(r.`{mapping.feedback_property}`) AS feedback ORDER BY edges DESC",
            {"types": list(mapping.rel_types)})
    result = {"status": {k: _text(v) for k, v in status.items()}, "top_risks": risks, "top_paths": top_paths,
              "label_coverage": coverage}
    for key in ("counts", "metrics"):
        if isinstance(status.get(key), str):
            result["status"][key] = json.loads(status[key])
    if as_json:
        click.echo(json.dumps(result, default=str))
        return
    if status["generation"] is None:
        click.echo("no complete generation yet: run `gnn-neo4j run`")
    else:
        click.echo(f"generation {status['generation']} (model {status['modelVersion']}), finished {status['finishedAt']}")
    click.echo("top risks:")
    for row in risks:
        click.echo(f"  {row['rank']:>3}  {row['name']:<40} {row['risk']:.3f}  ({row['id']})")
    click.echo("top paths:")
    for row in top_paths:
        click.echo(f"  {row['score']:.4f}  {' -> '.join(row['node_ids'])}")
    click.echo("label coverage (attack edges / outcomes / analyst feedback):")
    for row in coverage:
        click.echo(f"  {row['type']:<20} {row['edges']:>8} {row['outcomes']:>8} {row['feedback']:>8}")
