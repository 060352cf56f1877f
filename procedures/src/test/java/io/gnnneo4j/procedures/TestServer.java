package io.gnnneo4j.procedures;

import java.util.List;
import java.util.Map;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Logging;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilder;
import org.neo4j.harness.Neo4jBuilders;

/** One in-process Neo4j (neo4j-harness) with all gnn procedures and a fixture, reached over Bolt. */
final class TestServer implements AutoCloseable {

    private final Neo4j neo4j;
    private final Driver driver;

    TestServer(String fixture) {
        Neo4jBuilder builder = Neo4jBuilders.newInProcessBuilder()
                .withDisabledServer() // HTTP off; Bolt stays on
                .withFunction(Version.class)
                .withProcedure(ScoreProcedures.class)
                .withProcedure(AttackGraphProcedures.class)
                .withProcedure(FeedbackProcedures.class)
                .withProcedure(RiskProcedures.class);
        if (fixture != null) {
            builder = builder.withFixture(fixture);
        }
        neo4j = builder.build();
        driver = GraphDatabase.driver(neo4j.boltURI(), AuthTokens.none(),
                Config.builder().withoutEncryption().withLogging(Logging.none()).build());
    }

    List<Record> query(String cypher) {
        return query(cypher, Map.of());
    }

    List<Record> query(String cypher, Map<String, Object> parameters) {
        try (Session session = driver.session()) {
            return session.run(cypher, parameters).list();
        }
    }

    Driver driver() {
        return driver;
    }

    @Override
    public void close() {
        driver.close();
        neo4j.close();
    }
}
