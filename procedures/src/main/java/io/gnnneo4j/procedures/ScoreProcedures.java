package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.ResourceIterator;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;

/**
 * Read the scores that the last complete run wrote back: {@code gnn.status}, {@code gnn.topRisks},
 * {@code gnn.rankedPaths}. Only the newest {@code GnnRun} with status 'complete' is visible; a run in progress or
 * a failed run never shows.
 */
public class ScoreProcedures {

    @Context
    public Transaction tx;

    /** One row of {@code gnn.status()}; every field is null when no run has completed yet. */
    public record Status(
            Long generation, String modelVersion, String startedAt, String finishedAt, String counts, String metrics) {}

    /** One row of {@code gnn.topRisks()}. */
    public record RiskRow(Node node, String id, Double risk, Long rank) {}

    /** One row of {@code gnn.rankedPaths()}. */
    public record RankedPathRow(
            Node source, Node target, Long rank, Double score, Long hops, List<String> nodeIds, List<String> relTypes) {}

    @Procedure(name = "gnn.status", mode = Mode.READ)
    @Description("gnn.status() - the current (newest complete) scoring run: generation, modelVersion, startedAt, "
            + "finishedAt, counts (JSON), metrics (JSON). One row with generation = null when no run has completed.")
    public Stream<Status> status() {
        Node run = GraphContract.currentRun(tx);
        if (run == null) {
            return Stream.of(new Status(null, null, null, null, null, null));
        }
        return Stream.of(new Status(
                GraphContract.asLong(run.getProperty(GraphContract.RUN_GENERATION, null)),
                GraphContract.asText(run.getProperty("model_version", null)),
                GraphContract.asText(run.getProperty("started_at", null)),
                GraphContract.asText(run.getProperty("finished_at", null)),
                GraphContract.asText(run.getProperty("counts", null)),
                GraphContract.asText(run.getProperty("metrics", null))));
    }

    @Procedure(name = "gnn.topRisks", mode = Mode.READ)
    @Description("gnn.topRisks(limit = 10) - :Asset nodes of the current generation with the highest gnn_risk, "
            + "highest first (ties by id); rank is the 1-based position in this list.")
    public Stream<RiskRow> topRisks(@Name(value = "limit", defaultValue = "10") long limit) {
        GraphContract.requireLimit(limit);
        Long generation = GraphContract.currentGeneration(tx);
        if (generation == null || limit == 0) {
            return Stream.empty();
        }
        List<RiskRow> rows = new ArrayList<>();
        try (ResourceIterator<Node> assets =
                tx.findNodes(GraphContract.ASSET, GraphContract.GENERATION, generation)) {
            while (assets.hasNext()) {
                Node asset = assets.next();
                Double risk = GraphContract.asDouble(asset.getProperty(GraphContract.RISK, null));
                if (risk != null && !risk.isNaN()) {
                    rows.add(new RiskRow(asset, GraphContract.idOf(asset), risk, null));
                }
            }
        }
        rows.sort(Comparator.comparing(RiskRow::risk, Comparator.reverseOrder())
                .thenComparing(RiskRow::id, Comparator.nullsLast(Comparator.naturalOrder())));
        List<RiskRow> ranked = new ArrayList<>();
        for (int i = 0; i < rows.size() && i < limit; i++) {
            RiskRow row = rows.get(i);
            ranked.add(new RiskRow(row.node(), row.id(), row.risk(), (long) i + 1));
        }
        return ranked.stream();
    }

    @Procedure(name = "gnn.rankedPaths", mode = Mode.READ)
    @Description("gnn.rankedPaths(limit = 25) - materialised (:Asset)-[:ATTACK_PATH]->(:Asset) paths of the current "
            + "generation, highest score first: source, target, rank, score, hops, nodeIds, relTypes.")
    public Stream<RankedPathRow> rankedPaths(@Name(value = "limit", defaultValue = "25") long limit) {
        GraphContract.requireLimit(limit);
        Long generation = GraphContract.currentGeneration(tx);
        if (generation == null || limit == 0) {
            return Stream.empty();
        }
        List<RankedPathRow> rows = new ArrayList<>();
        try (ResourceIterator<Relationship> paths =
                tx.findRelationships(GraphContract.ATTACK_PATH, "generation", generation)) {
            while (paths.hasNext()) {
                Relationship path = paths.next();
                rows.add(new RankedPathRow(
                        path.getStartNode(),
                        path.getEndNode(),
                        GraphContract.asLong(path.getProperty("rank", null)),
                        GraphContract.asDouble(path.getProperty("score", null)),
                        GraphContract.asLong(path.getProperty("hops", null)),
                        GraphContract.asStrings(path.getProperty("node_ids", null)),
                        GraphContract.asStrings(path.getProperty("rel_types", null))));
            }
        }
        rows.sort(Comparator.comparing(RankedPathRow::score, Comparator.nullsLast(Comparator.reverseOrder()))
                .thenComparing(RankedPathRow::rank, Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(row -> String.join("\u0000", row.nodeIds())));
        return rows.stream().limit(limit);
    }
}
