package io.gnnneo4j.procedures;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.UserFunction;

/** {@code gnn.version()}: the version of the installed plugin jar. */
public class Version {

    static final String RESOURCE = "/gnn-version.properties";

    /** Read once from the Maven-filtered resource, so the value always equals the pom version. */
    static final String VERSION = load();

    @UserFunction("gnn.version")
    @Description("gnn.version() - the version of the installed gnn-procedures plugin, e.g. '0.1.0'.")
    public String version() {
        return VERSION;
    }

    private static String load() {
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("gnn-procedures jar is missing " + RESOURCE);
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version");
            if (version == null || version.isBlank() || version.startsWith("${")) {
                throw new IllegalStateException(RESOURCE + " was not filtered by Maven: version=" + version);
            }
            return version.trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
