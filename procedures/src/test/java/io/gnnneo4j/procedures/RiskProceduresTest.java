package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.Record;
import org.neo4j.driver.exceptions.ClientException;

/**
 * gnn.chokePoints, gnn.whatIf and gnn.explain on a small graph. Entry points e1 (internet_exposed) and e2
 * (entry_point); n (internet_exposed = false) is not one. Crown jewels j1, j2, j3 (critical); j3 is unreachable.
 * m is an :Identity.
 *
 * <pre>
 *   A e1->m 0.9   B e2->m 0.5   C m->j1 0.8   D e1->j1 0.4   E m->j2 0.5   F e2->j2 0.2   G n->j3 0.99
 *
 *   best j1 = e1-m-j1 = 0.72  (e2-m-j1 0.4, e1-j1 0.4)
 *   best j2 = e1-m-j2 = 0.45  (e2-m-j2 0.25, e2-j2 0.2)
 *   without A: j1 0.4, j2 0.25  -> reduction 0.32 + 0.2 = 0.52
 *   without C: j1 0.4           -> 0.32
 *   without E: j2 0.2           -> 0.25
 *   maxHops 1: j1 = D 0.4, j2 = F 0.2; without D: 0 -> 0.4; without F: 0 -> 0.2
 * </pre>
 */
class RiskProceduresTest {

    private static final String FIXTURE = """
            CREATE (e1:Asset {id: 'e1', internet_exposed: true}), (e2:Asset {id: 'e2', entry_point: true}),
                   (n:Asset {id: 'n', internet_exposed: false}),
                   (m:Identity {id: 'm', name: 'svc-account', gnn_risk: 0.7, gnn_staged_risk: 0.3, tags: ['x']}),
                   (j1:Asset {id: 'j1', critical: true}), (j2:Asset {id: 'j2', critical: true}),
                   (j3:Asset {id: 'j3', critical: true})
            CREATE (e1)-[:CAN_RDP {name: 'A', gnn_exploit_prob: 0.9, technique: 'T1021', exploited: true,
                                   gnn_feedback: true, gnn_score: 0.1}]->(m),
                   (e2)-[:CAN_SSH {name: 'B', gnn_exploit_prob: 0.5}]->(m),
                   (m)-[:ADMIN_TO {name: 'C', gnn_exploit_prob: 0.8}]->(j1),
                   (e1)-[:EXPLOITS {name: 'D', gnn_exploit_prob: 0.4}]->(j1),
                   (m)-[:ADMIN_TO {name: 'E', gnn_exploit_prob: 0.5}]->(j2),
                   (e2)-[:EXPLOITS {name: 'F', gnn_exploit_prob: 0.2}]->(j2),
                   (n)-[:EXPLOITS {name: 'G', gnn_exploit_prob: 0.99}]->(j3),
                   (e1)-[:CONNECTS_TO]->(j3), (e1)-[:EXPLOITS {gnn_exploit_prob: 0.0}]->(j3)
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

    private static String elementId(String name) {
        return server.query("MATCH ()-[r {name: $name}]->() RETURN elementId(r) AS id", Map.of("name", name))
                .get(0).get("id").asString();
    }

    private static List<Record> chokePoints(long limit, long maxHops) {
        return server.query("""
                CALL gnn.chokePoints($limit, $maxHops)
                YIELD relationship, sourceId, targetId, type, reduction, crownJewels
                RETURN relationship.name AS name, sourceId, targetId, type, reduction, crownJewels""",
                Map.of("limit", limit, "maxHops", maxHops));
    }

    private static void assertChoke(Record row, String name, String sourceId, String targetId, String type,
            double reduction, List<String> jewels) {
        assertEquals(name, row.get("name").asString());
        assertEquals(sourceId, row.get("sourceId").asString());
        assertEquals(targetId, row.get("targetId").asString());
        assertEquals(type, row.get("type").asString());
        assertEquals(reduction, row.get("reduction").asDouble(), 1e-12, name);
        assertEquals(jewels, row.get("crownJewels").asList(v -> v.asString()));
    }

    @Test
    void chokePointsRankEdgesByCrownJewelRiskRemoved() {
        List<Record> rows = chokePoints(10, 8);
        assertEquals(3, rows.size());
        assertChoke(rows.get(0), "A", "e1", "m", "CAN_RDP", 0.32 + 0.2, List.of("j1", "j2"));
        assertChoke(rows.get(1), "C", "m", "j1", "ADMIN_TO", 0.32, List.of("j1"));
        assertChoke(rows.get(2), "E", "m", "j2", "ADMIN_TO", 0.25, List.of("j2"));
    }

    @Test
    void chokePointsDefaultsAndLimit() {
        assertEquals(3, server.query("CALL gnn.chokePoints() YIELD reduction RETURN reduction").size());
        List<Record> two = chokePoints(2, 8);
        assertEquals(List.of("A", "C"), two.stream().map(r -> r.get("name").asString()).toList());
        assertEquals(List.of(), chokePoints(0, 8));
    }

    @Test
    void chokePointsHonourHopBound() {
        List<Record> rows = chokePoints(10, 1);
        assertEquals(2, rows.size());
        assertChoke(rows.get(0), "D", "e1", "j1", "EXPLOITS", 0.4, List.of("j1"));
        assertChoke(rows.get(1), "F", "e2", "j2", "EXPLOITS", 0.2, List.of("j2"));
    }

    @Test
    void chokePointsErrors() {
        assertError("limit must be >= 0, got -1", () -> chokePoints(-1, 8));
        assertError("maxHops must be between 1 and 64, got 0", () -> chokePoints(10, 0));
    }

    private static List<List<Object>> whatIf(List<String> names, long maxHops) {
        List<String> ids = new ArrayList<>();
        for (String name : names) {
            ids.add(elementId(name));
        }
        return whatIfIds(ids, maxHops);
    }

    private static List<List<Object>> whatIfIds(List<String> ids, long maxHops) {
        return server.query("""
                        CALL gnn.whatIf($ids, $maxHops) YIELD id, before, after, delta
                        RETURN id, before, after, delta""", Map.of("ids", ids, "maxHops", maxHops))
                .stream()
                .map(r -> {
                    assertEquals(r.get("after").asDouble() - r.get("before").asDouble(), r.get("delta").asDouble(),
                            1e-15);
                    return List.<Object>of(r.get("id").asString(), r.get("before").asDouble(),
                            r.get("after").asDouble());
                })
                .toList();
    }

    private static void assertRows(List<List<Object>> expected, List<List<Object>> actual) {
        assertEquals(expected.size(), actual.size(), actual.toString());
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).get(0), actual.get(i).get(0), actual.toString());
            for (int j = 1; j < expected.get(i).size(); j++) {
                assertEquals((double) expected.get(i).get(j), (double) actual.get(i).get(j), 1e-12,
                        actual.toString());
            }
        }
    }

    @Test
    void whatIfRemovingTheSharedEdge() {
        assertRows(List.of(
                        List.of("j1", 0.72, 0.4),
                        List.of("j2", 0.45, 0.25),
                        List.of("j3", 0.0, 0.0)),
                whatIf(List.of("A"), 8));
    }

    @Test
    void whatIfRemovingSeveralEdges() {
        // without A and B: j1 only via D (0.4), j2 only via F (0.2)
        assertRows(List.of(
                        List.of("j1", 0.72, 0.4),
                        List.of("j2", 0.45, 0.2),
                        List.of("j3", 0.0, 0.0)),
                whatIf(List.of("A", "B"), 8));
        // without A, D and F: j2 via e2-m-j2 (0.25) remains, j1 via e2-m-j1 (0.4)
        assertRows(List.of(
                        List.of("j1", 0.72, 0.4),
                        List.of("j2", 0.45, 0.25),
                        List.of("j3", 0.0, 0.0)),
                whatIf(List.of("A", "D", "F"), 8));
        // cut everything into j2, leaving j1 untouched: largest drop first
        assertRows(List.of(
                        List.of("j2", 0.45, 0.0),
                        List.of("j1", 0.72, 0.72),
                        List.of("j3", 0.0, 0.0)),
                whatIf(List.of("E", "F"), 8));
    }

    @Test
    void whatIfNothingRemovedAndHopBound() {
        assertRows(List.of(
                        List.of("j1", 0.72, 0.72),
                        List.of("j2", 0.45, 0.45),
                        List.of("j3", 0.0, 0.0)),
                whatIfIds(List.of(), 8));
        assertRows(List.of(
                        List.of("j1", 0.4, 0.4),
                        List.of("j2", 0.2, 0.2),
                        List.of("j3", 0.0, 0.0)),
                whatIf(List.of("A"), 1));
        assertEquals(3, server.query("CALL gnn.whatIf([]) YIELD id RETURN id").size());
    }

    @Test
    void whatIfErrors() {
        assertError("no relationship with element id 'nope'", () -> whatIfIds(List.of("nope"), 8));
        String missing = elementId("A").replaceAll("\\d+$", "999999");
        assertError("no relationship with element id '" + missing + "'", () -> whatIfIds(List.of(missing), 8));
        assertError("maxHops must be between 1 and 64, got 65", () -> whatIf(List.of("A"), 65));
    }

    private static List<Record> explain(String source, String target, long maxHops) {
        return server.query("""
                        CALL gnn.explain($source, $target, $maxHops)
                        YIELD hop, fromId, toId, type, probability, cumulative, evidence
                        RETURN hop, fromId, toId, type, probability, cumulative, evidence""",
                Map.of("source", source, "target", target, "maxHops", maxHops));
    }

    @Test
    void explainOneRowPerHopWithEvidence() {
        List<Record> rows = explain("e1", "j1", 8);
        assertEquals(2, rows.size());
        Record first = rows.get(0);
        assertEquals(1, first.get("hop").asLong());
        assertEquals("e1", first.get("fromId").asString());
        assertEquals("m", first.get("toId").asString());
        assertEquals("CAN_RDP", first.get("type").asString());
        assertEquals(0.9, first.get("probability").asDouble(), 1e-12);
        assertEquals(0.9, first.get("cumulative").asDouble(), 1e-12);
        assertEquals(Map.of("name", "A", "technique", "T1021", "exploited", true, "gnn_feedback", true,
                        "targetNode", Map.of("id", "m", "name", "svc-account", "gnn_risk", 0.7)),
                first.get("evidence").asMap());
        Record second = rows.get(1);
        assertEquals(2, second.get("hop").asLong());
        assertEquals("m", second.get("fromId").asString());
        assertEquals("j1", second.get("toId").asString());
        assertEquals("ADMIN_TO", second.get("type").asString());
        assertEquals(0.8, second.get("probability").asDouble(), 1e-12);
        assertEquals(0.72, second.get("cumulative").asDouble(), 1e-12);
        assertEquals(Map.of("name", "C", "targetNode", Map.of("id", "j1", "critical", true)),
                second.get("evidence").asMap());
    }

    @Test
    void explainHonoursHopBoundAndDefaults() {
        List<Record> rows = explain("e1", "j1", 1);
        assertEquals(1, rows.size());
        assertEquals("EXPLOITS", rows.get(0).get("type").asString());
        assertEquals(0.4, rows.get(0).get("cumulative").asDouble(), 1e-12);
        assertEquals(2, server.query("CALL gnn.explain('e1', 'j1') YIELD hop RETURN hop").size());
    }

    @Test
    void explainWithoutPathGivesNoRows() {
        assertEquals(List.of(), explain("j1", "e1", 8));
        assertEquals(List.of(), explain("e1", "j3", 8)); // only unusable relationships
    }

    @Test
    void explainErrors() {
        assertError("no :Asset with id 'nope' (source)", () -> explain("nope", "j1", 8));
        assertError("no :Asset with id 'nope' (target)", () -> explain("e1", "nope", 8));
        assertError("no :Asset with id 'm' (target)", () -> explain("e1", "m", 8)); // m is an :Identity
        assertError("source and target are the same asset 'e1'", () -> explain("e1", "e1", 8));
        assertError("maxHops must be between 1 and 64, got 0", () -> explain("e1", "j1", 0));
    }

    private static void assertError(String message, Runnable call) {
        ClientException error = assertThrows(ClientException.class, call::run);
        assertTrue(error.getMessage().contains(message), error.getMessage());
    }
}
