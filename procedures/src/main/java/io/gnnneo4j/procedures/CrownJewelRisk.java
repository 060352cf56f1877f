package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.ResourceIterator;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.TerminationGuard;

/**
 * Crown-jewel risk: the best (max-product, hop bounded) path probability to each crown jewel from any entry point.
 *
 * <p>Entry points are {@code :Asset} nodes with {@code internet_exposed = true} or {@code entry_point = true}; crown
 * jewels are {@code :Asset} nodes with {@code critical = true}. "From any entry point" is one search from a virtual
 * origin joined to every entry point by an edge of probability 1, run with the existing {@link MostProbablePaths}
 * (hop bound + 1 for the virtual edge, which is dropped from the results). A crown jewel that is itself an entry
 * point has probability 1.
 */
final class CrownJewelRisk {

    static final String INTERNET_EXPOSED = "internet_exposed";
    static final String ENTRY_POINT = "entry_point";
    static final String CRITICAL = "critical";

    /** The virtual origin node. */
    private static final Object ORIGIN = new Object() {
        @Override
        public String toString() {
            return "ORIGIN";
        }
    };

    /** The virtual edge from the origin to an entry point. */
    private record EntryEdge(Node entry) {}

    /** A best path: real relationships only (virtual edge removed). */
    record Best(double probability, List<Relationship> relationships) {
        static final Best NONE = new Best(0.0, List.of());
    }

    private final List<Node> crownJewels;
    private final MostProbablePaths<Object, Object> search;

    CrownJewelRisk(Transaction tx, TerminationGuard guard) {
        Set<Node> entries = new LinkedHashSet<>();
        entries.addAll(assetsWith(tx, INTERNET_EXPOSED));
        entries.addAll(assetsWith(tx, ENTRY_POINT));
        List<Node> jewels = assetsWith(tx, CRITICAL);
        jewels.sort(Comparator.comparing(GraphContract::idOf, Comparator.nullsLast(Comparator.naturalOrder())));
        this.crownJewels = List.copyOf(jewels);

        List<MostProbablePaths.Step<Object, Object>> originSteps = new ArrayList<>();
        for (Node entry : entries) {
            originSteps.add(new MostProbablePaths.Step<>(new EntryEdge(entry), entry, 1.0));
        }
        ExploitGraph exploitGraph = new ExploitGraph(guard);
        Map<Node, List<MostProbablePaths.Step<Object, Object>>> cache = new HashMap<>();
        MostProbablePaths.AttackGraph<Object, Object> graph = node -> {
            if (node == ORIGIN) {
                return originSteps;
            }
            return cache.computeIfAbsent((Node) node, n -> {
                List<MostProbablePaths.Step<Object, Object>> steps = new ArrayList<>();
                for (MostProbablePaths.Step<Node, Relationship> step : exploitGraph.outgoing(n)) {
                    steps.add(new MostProbablePaths.Step<>(step.edge(), step.target(), step.probability()));
                }
                return steps;
            });
        };
        this.search = new MostProbablePaths<>(graph);
    }

    /** Crown jewels ordered by id. */
    List<Node> crownJewels() {
        return crownJewels;
    }

    /** Best path to the jewel from any entry point within maxHops hops, avoiding the removed relationships. */
    Best best(Node jewel, int maxHops, Set<?> removed) {
        @SuppressWarnings("unchecked")
        Set<Object> banned = (Set<Object>) removed;
        MostProbablePaths.Route<Object, Object> route = search.shortest(ORIGIN, jewel, maxHops + 1, Set.of(), banned);
        if (route == null) {
            return Best.NONE;
        }
        List<Relationship> relationships = new ArrayList<>(route.hops() - 1);
        for (Object edge : route.edges().subList(1, route.hops())) {
            relationships.add((Relationship) edge);
        }
        return new Best(route.probability(), List.copyOf(relationships));
    }

    private static List<Node> assetsWith(Transaction tx, String flag) {
        List<Node> nodes = new ArrayList<>();
        try (ResourceIterator<Node> found = tx.findNodes(GraphContract.ASSET, flag, true)) {
            found.forEachRemaining(nodes::add);
        }
        return nodes;
    }
}
