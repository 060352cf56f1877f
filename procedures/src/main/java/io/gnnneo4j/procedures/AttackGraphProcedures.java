package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Path;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;
import org.neo4j.procedure.TerminationGuard;

/**
 * Live search over the scored attack graph (relationships with {@code gnn_exploit_prob}):
 * {@code gnn.attackPaths} and {@code gnn.blastRadius}. Both follow relationships in their direction and use
 * any node on the way; only the end points must be {@code :Asset} nodes.
 */
public class AttackGraphProcedures {

    @Context
    public Transaction tx;

    @Context
    public TerminationGuard guard;

    /** One row of {@code gnn.attackPaths()}. */
    public record AttackPathRow(Path path, Double probability, Long hops, Long rank) {}

    /** One row of {@code gnn.blastRadius()}. */
    public record BlastRadiusRow(Node node, String id, Double probability, Long hops) {}

    @Procedure(name = "gnn.attackPaths", mode = Mode.READ)
    @Description("gnn.attackPaths(source, target, k = 5, maxHops = 8) - the k most probable simple paths from the "
            + ":Asset with id = source to the :Asset with id = target along relationships with gnn_exploit_prob, "
            + "at most maxHops hops (Yen's algorithm on -ln p). probability = product of gnn_exploit_prob.")
    public Stream<AttackPathRow> attackPaths(
            @Name("source") String source,
            @Name("target") String target,
            @Name(value = "k", defaultValue = "5") long k,
            @Name(value = "maxHops", defaultValue = "8") long maxHops) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, got " + k);
        }
        requireMaxHops(maxHops);
        Node from = GraphContract.requireAsset(tx, source, "source");
        Node to = GraphContract.requireAsset(tx, target, "target");
        if (from.equals(to)) {
            throw new IllegalArgumentException("source and target are the same asset '" + source + "'");
        }
        MostProbablePaths<Node, Relationship> search = new MostProbablePaths<>(new ExploitGraph(guard));
        List<MostProbablePaths.Route<Node, Relationship>> routes =
                search.kMostProbable(from, to, (int) Math.min(k, Integer.MAX_VALUE), (int) maxHops);
        List<AttackPathRow> rows = new ArrayList<>(routes.size());
        long rank = 1;
        for (MostProbablePaths.Route<Node, Relationship> route : routes) {
            rows.add(new AttackPathRow(
                    new RoutePath(route.nodes(), route.edges()), route.probability(), (long) route.hops(), rank++));
        }
        return rows.stream();
    }

    @Procedure(name = "gnn.blastRadius", mode = Mode.READ)
    @Description("gnn.blastRadius(source, minProb = 0.1, maxHops = 6) - every :Asset reachable from the :Asset with "
            + "id = source along gnn_exploit_prob relationships whose most probable path (at most maxHops hops) has "
            + "probability >= minProb: node, id, probability, hops. Most probable first.")
    public Stream<BlastRadiusRow> blastRadius(
            @Name("source") String source,
            @Name(value = "minProb", defaultValue = "0.1") double minProb,
            @Name(value = "maxHops", defaultValue = "6") long maxHops) {
        if (!(minProb >= 0.0 && minProb <= 1.0)) {
            throw new IllegalArgumentException("minProb must be between 0 and 1, got " + minProb);
        }
        requireMaxHops(maxHops);
        Node from = GraphContract.requireAsset(tx, source, "source");
        MostProbablePaths<Node, Relationship> search = new MostProbablePaths<>(new ExploitGraph(guard));
        List<BlastRadiusRow> rows = new ArrayList<>();
        for (Map.Entry<Node, MostProbablePaths.Reach> entry : search.reachable(from, minProb, (int) maxHops).entrySet()) {
            Node node = entry.getKey();
            if (node.hasLabel(GraphContract.ASSET)) {
                MostProbablePaths.Reach reach = entry.getValue();
                rows.add(new BlastRadiusRow(node, GraphContract.idOf(node), reach.probability(), (long) reach.hops()));
            }
        }
        rows.sort(Comparator.comparing(BlastRadiusRow::probability, Comparator.reverseOrder())
                .thenComparing(BlastRadiusRow::hops)
                .thenComparing(BlastRadiusRow::id, Comparator.nullsLast(Comparator.naturalOrder())));
        return rows.stream();
    }

    static void requireMaxHops(long maxHops) {
        if (maxHops < 1 || maxHops > 64) {
            throw new IllegalArgumentException("maxHops must be between 1 and 64, got " + maxHops);
        }
    }
}
