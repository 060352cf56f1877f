package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.Record;
import org.neo4j.driver.exceptions.ClientException;

/** gnn.feedback writes analyst verdicts onto assets (by id) and relationships (by elementId). */
class FeedbackProceduresTest {

    private static final String FIXTURE = """
            CREATE (f1:Asset {id: 'f1'}), (f2:Asset {id: 'f2'}), (f3:Asset {id: 'f3'}), (f4:Asset {id: 'f4'})
            CREATE (f1)-[:CAN_RDP {name: 'r1', gnn_exploit_prob: 0.4}]->(f2)
            CREATE (f2)-[:CAN_RDP {name: 'r2', gnn_exploit_prob: 0.7}]->(f3)
            """;

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(FIXTURE);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Record feedback(String target, String verdict, String note) {
        String cypher = note == null
                ? "CALL gnn.feedback($target, $verdict)"
                : "CALL gnn.feedback($target, $verdict, $note)";
        Map<String, Object> parameters = note == null
                ? Map.of("target", target, "verdict", verdict)
                : Map.of("target", target, "verdict", verdict, "note", note);
        List<Record> rows = server.query(cypher, parameters);
        assertEquals(1, rows.size());
        return rows.get(0);
    }

    private static String relationshipElementId(String name) {
        return server.query("MATCH ()-[r {name: $name}]->() RETURN elementId(r) AS id", Map.of("name", name))
                .get(0).get("id").asString();
    }

    private static void assertRecordedNow(String recordedAt) {
        Instant at = Instant.parse(recordedAt);
        assertTrue(Duration.between(at, Instant.now()).abs().compareTo(Duration.ofMinutes(1)) < 0, recordedAt);
    }

    @Test
    void verdictOnAnAssetById() {
        Record row = feedback("f1", "exploitable", "pentest 2025-03: RCE confirmed");
        assertEquals("f1", row.get("target").asString());
        assertEquals("exploitable", row.get("verdict").asString());
        assertRecordedNow(row.get("recordedAt").asString());
        Record node = server.query("""
                MATCH (n:Asset {id: 'f1'})
                RETURN n.gnn_feedback AS label, n.gnn_feedback_note AS note, n.gnn_feedback_at AS at""").get(0);
        assertTrue(node.get("label").asBoolean());
        assertEquals("pentest 2025-03: RCE confirmed", node.get("note").asString());
        assertEquals(row.get("recordedAt").asString(), node.get("at").asString());
    }

    @Test
    void falsePositiveOnAnAssetIsFalse() {
        Record row = feedback("f4", " False_Positive ", null);
        assertEquals("false_positive", row.get("verdict").asString()); // verdicts are case-insensitive
        Record node = server.query(
                "MATCH (n:Asset {id: 'f4'}) RETURN n.gnn_feedback AS label, n.gnn_feedback_note AS note").get(0);
        assertFalse(node.get("label").asBoolean());
        assertEquals("", node.get("note").asString());
    }

    @Test
    void verdictOnARelationshipByElementId() {
        String r1 = relationshipElementId("r1");
        Record row = feedback(r1, "not_exploitable", null);
        assertEquals(r1, row.get("target").asString());
        assertEquals("not_exploitable", row.get("verdict").asString());
        Record rel = server.query("""
                MATCH ()-[r {name: 'r1'}]->()
                RETURN r.gnn_feedback AS label, r.gnn_feedback_note AS note, r.gnn_feedback_at AS at""").get(0);
        assertFalse(rel.get("label").asBoolean());
        assertEquals("", rel.get("note").asString());
        assertEquals(row.get("recordedAt").asString(), rel.get("at").asString());

        String r2 = relationshipElementId("r2");
        feedback(r2, "true_positive", "red team");
        Record other = server.query(
                "MATCH ()-[r {name: 'r2'}]->() RETURN r.gnn_feedback AS label, r.gnn_feedback_note AS note").get(0);
        assertTrue(other.get("label").asBoolean());
        assertEquals("red team", other.get("note").asString());

        feedback(r2, "not_exploitable", "retest: patched"); // a new verdict replaces the previous one
        Record replaced = server.query(
                "MATCH ()-[r {name: 'r2'}]->() RETURN r.gnn_feedback AS label, r.gnn_feedback_note AS note").get(0);
        assertFalse(replaced.get("label").asBoolean());
        assertEquals("retest: patched", replaced.get("note").asString());
    }

    @Test
    void unknownVerdictIsAnErrorAndWritesNothing() {
        ClientException error = assertThrows(ClientException.class, () -> feedback("f3", "maybe", "x"));
        assertTrue(error.getMessage().contains("unknown verdict 'maybe'"), error.getMessage());
        assertTrue(server.query("MATCH (n:Asset {id: 'f3'}) RETURN n.gnn_feedback AS label")
                .get(0).get("label").isNull());
    }

    @Test
    void unknownTargetIsAnError() {
        for (String target : List.of("nope", "5:00000000-0000-0000-0000-000000000000:999999")) {
            ClientException error = assertThrows(ClientException.class, () -> feedback(target, "exploitable", ""));
            assertTrue(error.getMessage().contains("no :Asset with id '" + target + "' and no relationship"),
                    error.getMessage());
        }
    }
}
