package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.neo4j.graphdb.Entity;
import org.neo4j.graphdb.Label;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.RelationshipType;
import org.neo4j.graphdb.ResourceIterator;
import org.neo4j.graphdb.Transaction;

/**
 * Names and lookups of the graph contract (DESIGN.md "Graph contract") shared by the procedures.
 * Labels, types and keys are constants here; nothing a caller passes in ever becomes a label or a type.
 */
final class GraphContract {

    // (:Asset {id, ...}) with write-back gnn_risk, gnn_risk_rank, gnn_generation, ...
    static final Label ASSET = Label.label("Asset");
    static final String ID = "id";
    static final String RISK = "gnn_risk";
    static final String GENERATION = "gnn_generation";

    // (:GnnRun {generation, status, started_at, finished_at, model_version, counts, metrics})
    static final Label GNN_RUN = Label.label("GnnRun");
    static final String RUN_GENERATION = "generation";
    static final String RUN_STATUS = "status";
    static final String RUN_COMPLETE = "complete";

    // (:Asset)-[:ATTACK_PATH {rank, score, hops, node_ids, rel_types, generation, model_version, scored_at}]->(:Asset)
    static final RelationshipType ATTACK_PATH = RelationshipType.withName("ATTACK_PATH");

    // ()-[attack edge {gnn_exploit_prob}]->()
    static final String EXPLOIT_PROB = "gnn_exploit_prob";

    // analyst verdicts written by gnn.feedback
    static final String FEEDBACK = "gnn_feedback";
    static final String FEEDBACK_NOTE = "gnn_feedback_note";
    static final String FEEDBACK_AT = "gnn_feedback_at";

    private GraphContract() {}

    /**
     * The newest {@code GnnRun} with status 'complete' (highest generation), or null when there is none.
     * Runs that are still writing or that failed are never visible.
     */
    static Node currentRun(Transaction tx) {
        Node newest = null;
        long newestGeneration = Long.MIN_VALUE;
        try (ResourceIterator<Node> runs = tx.findNodes(GNN_RUN, RUN_STATUS, RUN_COMPLETE)) {
            while (runs.hasNext()) {
                Node run = runs.next();
                Long generation = asLong(run.getProperty(RUN_GENERATION, null));
                if (generation != null && generation > newestGeneration) {
                    newest = run;
                    newestGeneration = generation;
                }
            }
        }
        return newest;
    }

    /** Generation of {@link #currentRun}, or null. */
    static Long currentGeneration(Transaction tx) {
        Node run = currentRun(tx);
        return run == null ? null : asLong(run.getProperty(RUN_GENERATION));
    }

    /** The Asset with this {@code id}; IllegalArgumentException naming the role when absent or not unique. */
    static Node requireAsset(Transaction tx, String id, String role) {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException(role + " asset id must not be empty");
        }
        Node asset = findAsset(tx, id);
        if (asset == null) {
            throw new IllegalArgumentException("no :Asset with id '" + id + "' (" + role + ")");
        }
        return asset;
    }

    /** The Asset with this {@code id} or null; IllegalArgumentException when several share it. */
    static Node findAsset(Transaction tx, String id) {
        try (ResourceIterator<Node> assets = tx.findNodes(ASSET, ID, id)) {
            if (!assets.hasNext()) {
                return null;
            }
            Node asset = assets.next();
            if (assets.hasNext()) {
                throw new IllegalArgumentException("several :Asset nodes have id '" + id + "'; ids must be unique");
            }
            return asset;
        }
    }

    /** The node's {@code id} property as a string (null when absent). */
    static String idOf(Entity entity) {
        Object id = entity.getProperty(ID, null);
        return id == null ? null : id.toString();
    }

    static Long asLong(Object value) {
        return value instanceof Number number ? number.longValue() : null;
    }

    static Double asDouble(Object value) {
        return value instanceof Number number ? number.doubleValue() : null;
    }

    /** A list or array property (e.g. {@code node_ids}) as a list of strings; empty when absent. */
    static List<String> asStrings(Object value) {
        List<String> strings = new ArrayList<>();
        if (value == null) {
            return strings;
        }
        if (value.getClass().isArray()) {
            int length = java.lang.reflect.Array.getLength(value);
            for (int i = 0; i < length; i++) {
                strings.add(String.valueOf(java.lang.reflect.Array.get(value, i)));
            }
        } else if (value instanceof Iterable<?> iterable) {
            for (Iterator<?> it = iterable.iterator(); it.hasNext(); ) {
                strings.add(String.valueOf(it.next()));
            }
        } else {
            strings.add(value.toString());
        }
        return strings;
    }

    /** A property that may be a string or a temporal value, as text (ISO-8601 for temporals). */
    static String asText(Object value) {
        return value == null ? null : value.toString();
    }

    static void requireLimit(long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        }
    }
}
