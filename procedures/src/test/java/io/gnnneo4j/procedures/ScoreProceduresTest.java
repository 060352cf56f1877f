package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.driver.Transaction;
import org.neo4j.driver.exceptions.ClientException;

/** gnn.status, gnn.topRisks, gnn.rankedPaths read only the newest complete generation. */
class ScoreProceduresTest {

    // generation 2 is current: 3 is still running, 4 failed, 1 is older
    private static final String FIXTURE = """
            CREATE (:GnnRun {generation: 1, status: 'complete', started_at: '2025-01-01T00:00:00Z',
                             finished_at: '2025-01-01T00:10:00Z', model_version: 'm1', counts: '{"nodes": 1}',
                             metrics: '{"f1": 0.5}'})
            CREATE (:GnnRun {generation: 2, status: 'complete', started_at: '2025-01-02T00:00:00Z',
                             finished_at: datetime('2025-01-02T00:20:00Z'), model_version: 'gat-7',
                             counts: '{"nodes": 6, "paths": 4}', metrics: '{"f1": 0.81, "auc_roc": 0.9}'})
            CREATE (:GnnRun {generation: 3, status: 'running', started_at: '2025-01-03T00:00:00Z', model_version: 'm3'})
            CREATE (:GnnRun {generation: 4, status: 'failed', started_at: '2025-01-04T00:00:00Z', model_version: 'm4'})
            CREATE (a1:Asset {id: 'a1', gnn_risk: 0.9, gnn_generation: 2})
            CREATE (a2:Asset {id: 'a2', gnn_risk: 0.5, gnn_generation: 2})
            CREATE (a3:Asset {id: 'a3', gnn_risk: 0.7, gnn_generation: 2})
            CREATE (a4:Asset {id: 'a4', gnn_risk: 0.7, gnn_generation: 2})
            CREATE (old:Asset {id: 'old', gnn_risk: 0.99, gnn_generation: 1})
            CREATE (partial:Asset {id: 'partial', gnn_risk: 0.95, gnn_generation: 3})
            CREATE (:Identity {id: 'i1', gnn_risk: 0.8, gnn_generation: 2})
            CREATE (a1)-[:ATTACK_PATH {rank: 1, score: 0.6, hops: 2, node_ids: ['a1', 'i1', 'a2'],
                                       rel_types: ['HAS_SESSION', 'ADMIN_TO'], generation: 2, model_version: 'gat-7'}]->(a2)
            CREATE (a3)-[:ATTACK_PATH {rank: 2, score: 0.3, hops: 1, node_ids: ['a3', 'a2'],
                                       rel_types: ['CAN_RDP'], generation: 2, model_version: 'gat-7'}]->(a2)
            CREATE (a4)-[:ATTACK_PATH {rank: 1, score: 0.45, hops: 1, node_ids: ['a4', 'a1'],
                                       rel_types: ['CAN_SSH'], generation: 2, model_version: 'gat-7'}]->(a1)
            CREATE (old)-[:ATTACK_PATH {rank: 1, score: 0.9, hops: 1, node_ids: ['old', 'a2'],
                                        rel_types: ['CAN_RDP'], generation: 1, model_version: 'm1'}]->(a2)
            CREATE (partial)-[:ATTACK_PATH {rank: 1, score: 0.95, hops: 1, node_ids: ['partial', 'a2'],
                                            rel_types: ['CAN_RDP'], generation: 3, model_version: 'm3'}]->(a2)
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

    @Test
    void statusReadsNewestCompleteRun() {
        List<Record> rows = server.query("CALL gnn.status()");
        assertEquals(1, rows.size());
        Record row = rows.get(0);
        assertEquals(2L, row.get("generation").asLong());
        assertEquals("gat-7", row.get("modelVersion").asString());
        assertEquals("2025-01-02T00:00:00Z", row.get("startedAt").asString());
        assertEquals("2025-01-02T00:20Z", row.get("finishedAt").asString()); // a datetime property, ISO text
        assertEquals("{\"nodes\": 6, \"paths\": 4}", row.get("counts").asString());
        assertEquals("{\"f1\": 0.81, \"auc_roc\": 0.9}", row.get("metrics").asString());
    }

    @Test
    void statusWithoutCompleteRunHasNullGeneration() {
        try (Session session = server.driver().session(); Transaction tx = session.beginTransaction()) {
            tx.run("MATCH (r:GnnRun) SET r.status = 'failed'").consume();
            List<Record> rows = tx.run("CALL gnn.status()").list();
            assertEquals(1, rows.size());
            assertTrue(rows.get(0).get("generation").isNull());
            assertTrue(rows.get(0).get("modelVersion").isNull());
            assertEquals(List.of(), tx.run("CALL gnn.topRisks()").list());
            assertEquals(List.of(), tx.run("CALL gnn.rankedPaths()").list());
            tx.rollback();
        }
    }

    @Test
    void topRisksOfCurrentGenerationOnlyAssetsByRiskThenId() {
        List<Record> rows = server.query(
                "CALL gnn.topRisks() YIELD node, id, risk, rank RETURN node.id AS nodeId, id, risk, rank");
        assertEquals(List.of(
                        List.of("a1", "a1", 0.9, 1L),
                        List.of("a3", "a3", 0.7, 2L),
                        List.of("a4", "a4", 0.7, 3L),
                        List.of("a2", "a2", 0.5, 4L)),
                rows.stream().map(r -> List.of(r.get("nodeId").asString(), r.get("id").asString(),
                        r.get("risk").asDouble(), r.get("rank").asLong())).toList());
    }

    @Test
    void topRisksHonoursLimit() {
        List<Record> rows = server.query("CALL gnn.topRisks(2) YIELD id RETURN id");
        assertEquals(List.of("a1", "a3"), rows.stream().map(r -> r.get("id").asString()).toList());
        assertEquals(List.of(), server.query("CALL gnn.topRisks(0)"));
        ClientException error = assertThrows(ClientException.class, () -> server.query("CALL gnn.topRisks(-1)"));
        assertTrue(error.getMessage().contains("limit must be >= 0"), error.getMessage());
    }

    @Test
    void rankedPathsOfCurrentGenerationByScore() {
        List<Record> rows = server.query("""
                CALL gnn.rankedPaths() YIELD source, target, rank, score, hops, nodeIds, relTypes
                RETURN source.id AS source, target.id AS target, rank, score, hops, nodeIds, relTypes""");
        assertEquals(List.of(
                        List.of("a1", "a2", 1L, 0.6, 2L, List.of("a1", "i1", "a2"), List.of("HAS_SESSION", "ADMIN_TO")),
                        List.of("a4", "a1", 1L, 0.45, 1L, List.of("a4", "a1"), List.of("CAN_SSH")),
                        List.of("a3", "a2", 2L, 0.3, 1L, List.of("a3", "a2"), List.of("CAN_RDP"))),
                rows.stream().map(r -> List.of(r.get("source").asString(), r.get("target").asString(),
                        r.get("rank").asLong(), r.get("score").asDouble(), r.get("hops").asLong(),
                        r.get("nodeIds").asList(), r.get("relTypes").asList())).toList());
    }

    @Test
    void rankedPathsHonoursLimit() {
        List<Record> rows = server.query("CALL gnn.rankedPaths($limit) YIELD score RETURN score", Map.of("limit", 2));
        assertEquals(List.of(0.6, 0.45), rows.stream().map(r -> r.get("score").asDouble()).toList());
    }
}
