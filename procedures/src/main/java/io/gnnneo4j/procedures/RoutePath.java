package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.neo4j.graphdb.Entity;
import org.neo4j.graphdb.Node;
import org.neo4j.graphdb.Path;
import org.neo4j.graphdb.Relationship;

/** A found route as a Neo4j {@link Path}, so Browser and Bloom draw it like any path. */
final class RoutePath implements Path {

    private final List<Node> nodes;
    private final List<Relationship> relationships;

    RoutePath(List<Node> nodes, List<Relationship> relationships) {
        if (nodes.size() != relationships.size() + 1) {
            throw new IllegalArgumentException("a path has one node more than relationships");
        }
        this.nodes = List.copyOf(nodes);
        this.relationships = List.copyOf(relationships);
    }

    @Override
    public Node startNode() {
        return nodes.get(0);
    }

    @Override
    public Node endNode() {
        return nodes.get(nodes.size() - 1);
    }

    @Override
    public Relationship lastRelationship() {
        return relationships.isEmpty() ? null : relationships.get(relationships.size() - 1);
    }

    @Override
    public Iterable<Relationship> relationships() {
        return relationships;
    }

    @Override
    public Iterable<Relationship> reverseRelationships() {
        return reversed(relationships);
    }

    @Override
    public Iterable<Node> nodes() {
        return nodes;
    }

    @Override
    public Iterable<Node> reverseNodes() {
        return reversed(nodes);
    }

    @Override
    public int length() {
        return relationships.size();
    }

    @Override
    public Iterator<Entity> iterator() {
        List<Entity> entities = new ArrayList<>(nodes.size() + relationships.size());
        for (int i = 0; i < relationships.size(); i++) {
            entities.add(nodes.get(i));
            entities.add(relationships.get(i));
        }
        entities.add(endNode());
        return entities.iterator();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("(").append(startNode().getElementId()).append(')');
        for (int i = 0; i < relationships.size(); i++) {
            Relationship relationship = relationships.get(i);
            text.append("-[").append(relationship.getType().name()).append(',')
                    .append(relationship.getElementId()).append("]->(")
                    .append(nodes.get(i + 1).getElementId()).append(')');
        }
        return text.toString();
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> copy = new ArrayList<>(list);
        java.util.Collections.reverse(copy);
        return copy;
    }
}
