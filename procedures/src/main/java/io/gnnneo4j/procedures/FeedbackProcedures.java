package io.gnnneo4j.procedures;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.neo4j.graphdb.Entity;
import org.neo4j.graphdb.NotFoundException;
import org.neo4j.graphdb.Transaction;
import org.neo4j.procedure.Context;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Name;
import org.neo4j.procedure.Procedure;

/** {@code gnn.feedback}: analyst verdicts that the next training run uses as labels. */
public class FeedbackProcedures {

    /** Verdicts and the label each one records in {@code gnn_feedback}. */
    static final Map<String, Boolean> VERDICTS = Map.of(
            "exploitable", true,
            "true_positive", true,
            "not_exploitable", false,
            "false_positive", false);

    @Context
    public Transaction tx;

    /** One row of {@code gnn.feedback()}. */
    public record FeedbackRow(String target, String verdict, String recordedAt) {}

    @Procedure(name = "gnn.feedback", mode = Mode.WRITE)
    @Description("gnn.feedback(target, verdict, note = '') - record an analyst verdict ('exploitable', "
            + "'not_exploitable', 'true_positive', 'false_positive') on an :Asset (target = its id) or a relationship "
            + "(target = its elementId): sets gnn_feedback (true for exploitable/true_positive), gnn_feedback_note, "
            + "gnn_feedback_at (ISO-8601 UTC string).")
    public Stream<FeedbackRow> feedback(
            @Name("target") String target,
            @Name("verdict") String verdict,
            @Name(value = "note", defaultValue = "") String note) {
        if (target == null || target.isBlank()) {
            throw new IllegalArgumentException("target must be an :Asset id or a relationship elementId");
        }
        String normalized = verdict == null ? "" : verdict.trim().toLowerCase(Locale.ROOT);
        Boolean label = VERDICTS.get(normalized);
        if (label == null) {
            throw new IllegalArgumentException("unknown verdict '" + verdict
                    + "'; use one of exploitable, not_exploitable, true_positive, false_positive");
        }
        Entity entity = resolve(target);
        String recordedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
        entity.setProperty(GraphContract.FEEDBACK, label);
        entity.setProperty(GraphContract.FEEDBACK_NOTE, note == null ? "" : note);
        entity.setProperty(GraphContract.FEEDBACK_AT, recordedAt);
        return Stream.of(new FeedbackRow(target, normalized, recordedAt));
    }

    /** An :Asset id first (ids are what analysts see), otherwise a relationship elementId. */
    private Entity resolve(String target) {
        Entity asset = GraphContract.findAsset(tx, target);
        if (asset != null) {
            return asset;
        }
        try {
            return tx.getRelationshipByElementId(target);
        } catch (NotFoundException | IllegalArgumentException e) {
            // no cause attached: Neo4j reports the root cause, and ours is the message the analyst needs
            throw new IllegalArgumentException(
                    "no :Asset with id '" + target + "' and no relationship with elementId '" + target + "'");
        }
    }
}
