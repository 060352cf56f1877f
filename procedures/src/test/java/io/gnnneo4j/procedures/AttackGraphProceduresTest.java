package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.Record;
import org.neo4j.driver.exceptions.ClientException;

/**
 * gnn.attackPaths and gnn.blastRadius on a small attack graph whose simple s -> t paths are known:
 *
 * <pre>
 *   s-u-c-t      0.99^3             = 0.970299    3 hops (u is an :Identity, not an :Asset)
 *   s-d1-d2-d3-t 0.99^4             = 0.96059601  4 hops
 *   s-a-b-t      0.9 * 0.9 * 0.7    = 0.567       3 hops
 *   s-b-t        0.8 * 0.7          = 0.56        2 hops
 *   s-d3-t       0.5 * 0.99         = 0.495       2 hops (d3 is best reached in 3 hops: the hop bound matters)
 *   s-a-t        0.9 * 0.5          = 0.45        2 hops
 *   s-b-a-t      0.8 * 0.9 * 0.5    = 0.36        3 hops
 * </pre>
 * plus s->t relationships that are not usable: no gnn_exploit_prob, and gnn_exploit_prob = 0.
 */
class AttackGraphProceduresTest {

    private static final String FIXTURE = """
            CREATE (s:Asset {id: 's'}), (a:Asset {id: 'a'}), (b:Asset {id: 'b'}), (c:Asset {id: 'c'}),
                   (t:Asset {id: 't'}), (d1:Asset {id: 'd1'}), (d2:Asset {id: 'd2'}), (d3:Asset {id: 'd3'}),
                   (u:Identity {id: 'u'}), (lonely:Asset {id: 'lonely'})
            CREATE (s)-[:HAS_SESSION {gnn_exploit_prob: 0.99}]->(u), (u)-[:ADMIN_TO {gnn_exploit_prob: 0.99}]->(c),
                   (c)-[:CAN_RDP {gnn_exploit_prob: 0.99}]->(t)
            CREATE (s)-[:CAN_SSH {gnn_exploit_prob: 0.99}]->(d1), (d1)-[:CAN_SSH {gnn_exploit_prob: 0.99}]->(d2),
                   (d2)-[:CAN_SSH {gnn_exploit_prob: 0.99}]->(d3), (d3)-[:CAN_SSH {gnn_exploit_prob: 0.99}]->(t),
                   (s)-[:EXPLOITS {gnn_exploit_prob: 0.5}]->(d3)
            CREATE (s)-[:CAN_RDP {gnn_exploit_prob: 0.9}]->(a), (a)-[:CAN_RDP {gnn_exploit_prob: 0.5}]->(t),
                   (s)-[:CAN_RDP {gnn_exploit_prob: 0.8}]->(b), (b)-[:CAN_RDP {gnn_exploit_prob: 0.7}]->(t),
                   (a)-[:CAN_RDP {gnn_exploit_prob: 0.9}]->(b), (b)-[:CAN_RDP {gnn_exploit_prob: 0.9}]->(a)
            CREATE (s)-[:CONNECTS_TO]->(t), (s)-[:CAN_RDP {gnn_exploit_prob: 0.0}]->(t),
                   (t)-[:CAN_RDP {gnn_exploit_prob: 0.99}]->(s)
            """;

    private static final String PATHS = """
            CALL gnn.attackPaths($source, $target, $k, $maxHops) YIELD path, probability, hops, rank
            RETURN [n IN nodes(path) | n.id] AS ids, [r IN relationships(path) | type(r)] AS types,
                   length(path) AS length, probability, hops, rank""";

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(FIXTURE);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static List<Record> paths(String source, String target, long k, long maxHops) {
        return server.query(PATHS, Map.of("source", source, "target", target, "k", k, "maxHops", maxHops));
    }

    private static void assertPaths(List<List<String>> ids, List<Double> probabilities, List<Record> rows) {
        assertEquals(ids, rows.stream().map(r -> r.get("ids").asList(v -> v.asString())).toList());
        assertEquals(probabilities.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Record row = rows.get(i);
            assertEquals(probabilities.get(i), row.get("probability").asDouble(), 1e-12, "rank " + (i + 1));
            assertEquals(ids.get(i).size() - 1, row.get("hops").asLong());
            assertEquals(row.get("hops").asLong(), row.get("length").asLong());
            assertEquals(i + 1, row.get("rank").asLong());
        }
    }

    @Test
    void allSimplePathsMostProbableFirst() {
        assertPaths(
                List.of(List.of("s", "u", "c", "t"), List.of("s", "d1", "d2", "d3", "t"), List.of("s", "a", "b", "t"),
                        List.of("s", "b", "t"), List.of("s", "d3", "t"), List.of("s", "a", "t"),
                        List.of("s", "b", "a", "t")),
                List.of(0.970299, 0.96059601, 0.567, 0.56, 0.495, 0.45, 0.36),
                paths("s", "t", 20, 8));
    }

    @Test
    void defaultsAreFivePathsWithinEightHops() {
        List<Record> rows = server.query("CALL gnn.attackPaths('s', 't') YIELD probability RETURN probability");
        assertEquals(5, rows.size());
        assertEquals(0.495, rows.get(4).get("probability").asDouble(), 1e-12);
    }

    @Test
    void pathIsARealPathOfAttackRelationships() {
        Record best = paths("s", "t", 1, 8).get(0);
        assertEquals(List.of("HAS_SESSION", "ADMIN_TO", "CAN_RDP"), best.get("types").asList(v -> v.asString()));
    }

    @Test
    void hopBoundThreeDropsTheFourHopPath() {
        assertPaths(
                List.of(List.of("s", "u", "c", "t"), List.of("s", "a", "b", "t"), List.of("s", "b", "t"),
                        List.of("s", "d3", "t"), List.of("s", "a", "t"), List.of("s", "b", "a", "t")),
                List.of(0.970299, 0.567, 0.56, 0.495, 0.45, 0.36),
                paths("s", "t", 20, 3));
    }

    @Test
    void hopBoundTwoFindsPathsThroughNodesBestReachedInMoreHops() {
        assertPaths(
                List.of(List.of("s", "b", "t"), List.of("s", "d3", "t"), List.of("s", "a", "t")),
                List.of(0.56, 0.495, 0.45),
                paths("s", "t", 20, 2));
    }

    @Test
    void kLimitsTheNumberOfPaths() {
        assertPaths(
                List.of(List.of("s", "u", "c", "t"), List.of("s", "d1", "d2", "d3", "t")),
                List.of(0.970299, 0.96059601),
                paths("s", "t", 2, 8));
    }

    @Test
    void unreachableTargetGivesNoRows() {
        assertEquals(List.of(), paths("s", "lonely", 5, 8));
    }

    @Test
    void clearErrors() {
        assertError("no :Asset with id 'nope' (source)", () -> paths("nope", "t", 5, 8));
        assertError("no :Asset with id 'nope' (target)", () -> paths("s", "nope", 5, 8));
        assertError("no :Asset with id 'u' (target)", () -> paths("s", "u", 5, 8)); // u is an :Identity
        assertError("k must be >= 1, got 0", () -> paths("s", "t", 0, 8));
        assertError("maxHops must be between 1 and 64, got 0", () -> paths("s", "t", 5, 0));
        assertError("source and target are the same asset 's'", () -> paths("s", "s", 5, 8));
    }

    private static List<List<Object>> blast(String source, double minProb, long maxHops) {
        return server.query("""
                        CALL gnn.blastRadius($source, $minProb, $maxHops) YIELD node, id, probability, hops
                        RETURN node.id AS nodeId, id, probability, hops""",
                        Map.of("source", source, "minProb", minProb, "maxHops", maxHops))
                .stream()
                .map(r -> {
                    assertEquals(r.get("nodeId").asString(), r.get("id").asString());
                    return List.<Object>of(r.get("id").asString(), r.get("probability").asDouble(),
                            r.get("hops").asLong());
                })
                .toList();
    }

    @Test
    void blastRadiusUsesBestPathProbabilityAndSkipsNonAssets() {
        // b is best reached via a (0.81, 2 hops), not directly (0.8); u (:Identity) is traversed, not listed
        assertEquals(List.of(
                        List.of("d1", 0.99, 1L),
                        List.of("c", 0.99 * 0.99, 2L),
                        List.of("d2", 0.99 * 0.99, 2L),
                        List.of("d3", 0.99 * 0.99 * 0.99, 3L),
                        List.of("t", 0.99 * 0.99 * 0.99, 3L),
                        List.of("a", 0.9, 1L),
                        List.of("b", 0.9 * 0.9, 2L)),
                blast("s", 0.5, 6));
    }

    @Test
    void blastRadiusHonoursMinProb() {
        assertEquals(List.of("d1", "c", "d2", "d3", "t", "a"),
                blast("s", 0.85, 6).stream().map(row -> row.get(0)).toList());
    }

    @Test
    void blastRadiusHonoursHopBound() {
        assertEquals(List.of(
                        List.of("d1", 0.99, 1L),
                        List.of("a", 0.9, 1L),
                        List.of("b", 0.8, 1L),
                        List.of("d3", 0.5, 1L)),
                blast("s", 0.1, 1));
        // two hops: t via b (0.56) beats t via d3 (0.495); d3 stays direct because the chain needs 3 hops
        assertEquals(List.of(
                        List.of("d1", 0.99, 1L),
                        List.of("c", 0.99 * 0.99, 2L),
                        List.of("d2", 0.99 * 0.99, 2L),
                        List.of("a", 0.9, 1L),
                        List.of("b", 0.9 * 0.9, 2L),
                        List.of("t", 0.8 * 0.7, 2L),
                        List.of("d3", 0.5, 1L)),
                blast("s", 0.1, 2));
    }

    @Test
    void blastRadiusErrors() {
        assertError("no :Asset with id 'nope' (source)", () -> blast("nope", 0.1, 6));
        assertError("minProb must be between 0 and 1, got 1.5", () -> blast("s", 1.5, 6));
    }

    private static void assertError(String message, Runnable call) {
        ClientException error = assertThrows(ClientException.class, call::run);
        assertTrue(error.getMessage().contains(message), error.getMessage());
    }
}
