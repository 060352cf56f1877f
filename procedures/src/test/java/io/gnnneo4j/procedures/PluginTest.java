package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.Record;

/** The plugin loads: gnn.version() and every procedure is registered with its mode and a description. */
class PluginTest {

    private static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(null);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void versionIsThePomVersion() {
        String expected = System.getProperty("gnn.expectedVersion");
        assertNotNull(expected, "surefire passes the pom version as gnn.expectedVersion");
        assertEquals(expected, server.query("RETURN gnn.version() AS v").get(0).get("v").asString());
    }

    @Test
    void versionFunctionIsDocumented() {
        Record function = server.query(
                "SHOW FUNCTIONS YIELD name, description WHERE name = 'gnn.version' RETURN name, description").get(0);
        assertFalse(function.get("description").asString().isBlank());
    }

    @Test
    void proceduresAreRegisteredWithModeAndDescription() {
        Map<String, String> modes = new HashMap<>();
        for (Record row : server.query(
                "SHOW PROCEDURES YIELD name, mode, description WHERE name STARTS WITH 'gnn.' "
                        + "RETURN name, mode, description")) {
            assertFalse(row.get("description").asString().isBlank(), row.get("name").asString());
            modes.put(row.get("name").asString(), row.get("mode").asString());
        }
        assertEquals(Map.of(
                "gnn.status", "READ",
                "gnn.topRisks", "READ",
                "gnn.rankedPaths", "READ",
                "gnn.attackPaths", "READ",
                "gnn.blastRadius", "READ",
                "gnn.chokePoints", "READ",
                "gnn.whatIf", "READ",
                "gnn.explain", "READ",
                "gnn.feedback", "WRITE"), modes);
    }
}
