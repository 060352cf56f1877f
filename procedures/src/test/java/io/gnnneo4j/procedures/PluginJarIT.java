package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.Transaction;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * The shaded jar (target/gnn-procedures-*.jar) is a working plugin: a server with it in its plugins directory
 * (and no procedure registered by hand) has gnn.version() and every gnn.* procedure.
 */
class PluginJarIT {

    @Test
    void serverLoadsProceduresFromTheJar(@TempDir Path plugins) throws IOException {
        Path jar = Path.of(System.getProperty("gnn.pluginJar"));
        assertTrue(Files.isRegularFile(jar), "mvn package builds " + jar);
        Files.copy(jar, plugins.resolve(jar.getFileName()));
        try (Neo4j neo4j = Neo4jBuilders.newInProcessBuilder()
                .withDisabledServer()
                .withConfig(GraphDatabaseSettings.plugin_dir, plugins)
                .build()) {
            GraphDatabaseService db = neo4j.defaultDatabaseService();
            try (Transaction tx = db.beginTx()) {
                assertEquals(System.getProperty("gnn.expectedVersion"),
                        tx.execute("RETURN gnn.version() AS v").<String>columnAs("v").next());
                Set<String> procedures = tx.execute(
                                "SHOW PROCEDURES YIELD name WHERE name STARTS WITH 'gnn.' RETURN name")
                        .<String>columnAs("name").stream().collect(Collectors.toSet());
                assertEquals(Set.of("gnn.status", "gnn.topRisks", "gnn.rankedPaths", "gnn.attackPaths",
                        "gnn.blastRadius", "gnn.chokePoints", "gnn.whatIf", "gnn.explain",
                        "gnn.feedback"), procedures);
                List<Object> status = tx.execute("CALL gnn.status() YIELD generation RETURN generation")
                        .<Object>columnAs("generation").stream().toList();
                assertEquals(1, status.size());
                assertEquals(null, status.get(0));
            }
        }
    }
}
