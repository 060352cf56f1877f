package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.neo4j.graphdb.Entity;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Relationship;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;
import org.neo4j.procedure.TerminationGuard;

/**
 * Crown-jewel risk and remediation over the live attack graph: {@code gnn.chokePoints}, {@code gnn.whatIf} and
 * {@code gnn.explain}. All use the same max-product, hop-bounded search as {@code gnn.attackPaths}.
 */
public class RiskProcedures {

    @Context
    public Transaction tx;

    @Context
    public TerminationGuard guard;

    /** One row of {@code gnn.chokePoints()}. */
    public record ChokePointRow(Relationship relationship, String sourceId, String targetId, String type,
            Double reduction, List<String> crownJewels) {}

    /** One row of {@code gnn.whatIf()}. */
    public record WhatIfRow(String id, Double before, Double after, Double delta) {}

    /** One row of {@code gnn.explain()}. */
    public record ExplainRow(Long hop, String fromId, String toId, String type, Double probability,
            Double cumulative, Map<String, Object> evidence) {}

    static final String STAGED_PREFIX = "gnn_staged_";
    static final String GNN_PREFIX = "gnn_";
    static final String EXPLOITED = "exploited";
    static final String TARGET_NODE = "targetNode";

    @Procedure(name = "gnn.chokePoints", mode = Mode.READ)
    @Description("gnn.chokePoints(limit = 10, maxHops = 8) - attack relationships whose removal removes the most "
            + "crown-jewel risk: reduction = sum over crown jewels (:Asset critical = true) of the drop in the best "
            + "path probability from any entry point (:Asset internet_exposed or entry_point = true). Yields "
            + "relationship, sourceId, targetId, type, reduction, crownJewels; largest reduction first.")
    public Stream<ChokePointRow> chokePoints(
            @Name(value = "limit", defaultValue = "10") long limit,
            @Name(value = "maxHops", defaultValue = "8") long maxHops) {
        GraphContract.requireLimit(limit);
        AttackGraphProcedures.requireMaxHops(maxHops);
        CrownJewelRisk risk = new CrownJewelRisk(tx, guard);
        Map<Relationship, double[]> reductions = new LinkedHashMap<>();
        Map<Relationship, List<String>> jewelsOf = new LinkedHashMap<>();
        for (Node jewel : risk.crownJewels()) {
            CrownJewelRisk.Best before = risk.best(jewel, (int) maxHops, Set.of());
            // only an edge on the current best path can lower this jewel's best probability
            for (Relationship candidate : before.relationships()) {
                CrownJewelRisk.Best after = risk.best(jewel, (int) maxHops, Set.of(candidate));
                double reduction = before.probability() - after.probability();
                if (reduction > 0.0) {
                    reductions.computeIfAbsent(candidate, r -> new double[1])[0] += reduction;
                    jewelsOf.computeIfAbsent(candidate, r -> new ArrayList<>()).add(GraphContract.idOf(jewel));
                }
            }
        }
        List<ChokePointRow> rows = new ArrayList<>(reductions.size());
        for (Map.Entry<Relationship, double[]> entry : reductions.entrySet()) {
            Relationship relationship = entry.getKey();
            rows.add(new ChokePointRow(relationship, GraphContract.idOf(relationship.getStartNode()),
                    GraphContract.idOf(relationship.getEndNode()), relationship.getType().name(), entry.getValue()[0],
                    List.copyOf(jewelsOf.get(relationship))));
        }
        Comparator<String> text = Comparator.nullsLast(Comparator.naturalOrder());
        rows.sort(Comparator.comparing(ChokePointRow::reduction, Comparator.reverseOrder())
                .thenComparing(ChokePointRow::sourceId, text)
                .thenComparing(ChokePointRow::targetId, text)
                .thenComparing(ChokePointRow::type)
                .thenComparing(row -> row.relationship().getElementId()));
        return rows.stream().limit(limit);
    }

    @Procedure(name = "gnn.whatIf", mode = Mode.READ)
    @Description("gnn.whatIf(relationships, maxHops = 8) - remediation simulation: the relationships (a list of "
            + "elementId(r)) are treated as removed. Per crown jewel (:Asset critical = true): id, before and after "
            + "(best path probability from any entry point, 0.0 when unreachable), delta = after - before. "
            + "Largest drop first.")
    public Stream<WhatIfRow> whatIf(
            @Name("relationships") List<String> relationships,
            @Name(value = "maxHops", defaultValue = "8") long maxHops) {
        if (relationships == null) {
            throw new IllegalArgumentException("relationships must be a list of relationship element ids");
        }
        AttackGraphProcedures.requireMaxHops(maxHops);
        Set<Relationship> removed = new HashSet<>();
        for (String elementId : relationships) {
            removed.add(requireRelationship(elementId));
        }
        CrownJewelRisk risk = new CrownJewelRisk(tx, guard);
        List<WhatIfRow> rows = new ArrayList<>();
        for (Node jewel : risk.crownJewels()) {
            CrownJewelRisk.Best before = risk.best(jewel, (int) maxHops, Set.of());
            // removing edges off the best path cannot change it
            boolean touched = before.relationships().stream().anyMatch(removed::contains);
            double after = touched ? risk.best(jewel, (int) maxHops, removed).probability() : before.probability();
            rows.add(new WhatIfRow(GraphContract.idOf(jewel), before.probability(), after,
                    after - before.probability()));
        }
        rows.sort(Comparator.comparing(WhatIfRow::delta)
                .thenComparing(WhatIfRow::id, Comparator.nullsLast(Comparator.naturalOrder())));
        return rows.stream();
    }

    @Procedure(name = "gnn.explain", mode = Mode.READ)
    @Description("gnn.explain(source, target, maxHops = 8) - the most probable path from the :Asset with id = source "
            + "to the :Asset with id = target, one row per hop: hop, fromId, toId, type, probability "
            + "(gnn_exploit_prob), cumulative (product so far), evidence (relationship properties without gnn_*, "
            + "plus gnn_feedback; targetNode: the scalar properties of the hop's target without gnn_staged_*).")
    public Stream<ExplainRow> explain(
            @Name("source") String source,
            @Name("target") String target,
            @Name(value = "maxHops", defaultValue = "8") long maxHops) {
        AttackGraphProcedures.requireMaxHops(maxHops);
        Node from = GraphContract.requireAsset(tx, source, "source");
        Node to = GraphContract.requireAsset(tx, target, "target");
        if (from.equals(to)) {
            throw new IllegalArgumentException("source and target are the same asset '" + source + "'");
        }
        MostProbablePaths<Node, Relationship> search = new MostProbablePaths<>(new ExploitGraph(guard));
        MostProbablePaths.Route<Node, Relationship> route = search.shortest(from, to, (int) maxHops, Set.of(), Set.of());
        if (route == null) {
            return Stream.empty();
        }
        List<ExplainRow> rows = new ArrayList<>(route.hops());
        double cumulative = 1.0;
        for (int i = 0; i < route.hops(); i++) {
            Relationship relationship = route.edges().get(i);
            double p = route.edgeProbabilities().get(i);
            cumulative *= p;
            Node next = route.nodes().get(i + 1);
            rows.add(new ExplainRow((long) (i + 1), GraphContract.idOf(route.nodes().get(i)), GraphContract.idOf(next),
                    relationship.getType().name(), p, cumulative, evidence(relationship, next)));
        }
        return rows.stream();
    }

    private Relationship requireRelationship(String elementId) {
        if (elementId == null || elementId.isBlank()) {
            throw new IllegalArgumentException("relationship element id must not be empty");
        }
        try {
            return tx.getRelationshipByElementId(elementId);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("no relationship with element id '" + elementId + "'");
        }
    }

    /** Relationship properties (not gnn_*, except gnn_feedback) and the target node's scalar properties. */
    static Map<String, Object> evidence(Relationship relationship, Node target) {
        Map<String, Object> evidence = new LinkedHashMap<>();
        for (Map.Entry<String, Object> property : sortedProperties(relationship).entrySet()) {
            String key = property.getKey();
            if (!key.startsWith(GNN_PREFIX) || key.equals(GraphContract.FEEDBACK) || key.equals(EXPLOITED)) {
                evidence.put(key, property.getValue());
            }
        }
        Map<String, Object> node = new LinkedHashMap<>();
        for (Map.Entry<String, Object> property : sortedProperties(target).entrySet()) {
            Object value = property.getValue();
            boolean scalar = value instanceof Number || value instanceof Boolean || value instanceof String;
            if (scalar && !property.getKey().startsWith(STAGED_PREFIX)) {
                node.put(property.getKey(), value);
            }
        }
        evidence.put(TARGET_NODE, node);
        return evidence;
    }

    private static Map<String, Object> sortedProperties(Entity entity) {
        return new java.util.TreeMap<>(entity.getAllProperties());
    }
}
