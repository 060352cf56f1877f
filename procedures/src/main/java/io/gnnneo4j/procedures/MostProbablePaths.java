package io.gnnneo4j.procedures;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Most probable attack paths over edges that carry an exploit probability.
 *
 * <p>A path's probability is the product of its edge probabilities; searching on the additive weight
 * {@code -ln p} turns "most probable" into "shortest". Every search is bounded to a number of hops and the
 * bound is part of the search state (node, hops), so the best path within the bound is found even when a
 * more probable but longer path exists. Pure Java over {@link AttackGraph}: the procedures plug in Neo4j
 * nodes and relationships, the unit tests plug in small in-memory graphs.
 *
 * @param <N> node type (equals/hashCode identify a node)
 * @param <E> edge type (equals/hashCode identify an edge; parallel edges are different edges)
 */
final class MostProbablePaths<N, E> {

    /** Outgoing traversable edges of a node. */
    interface AttackGraph<N, E> {
        Iterable<Step<N, E>> outgoing(N node);
    }

    /** One outgoing edge: its identity, the node it leads to and its exploit probability. */
    record Step<N, E>(E edge, N target, double probability) {}

    /** A simple path with its per-edge probabilities; {@code probability} is their product in path order. */
    record Route<N, E>(List<N> nodes, List<E> edges, List<Double> edgeProbabilities, double probability, double cost) {
        int hops() {
            return edges.size();
        }
    }

    /** Best (most probable) way to reach a node within the hop bound. */
    record Reach(double probability, int hops) {}

    private final AttackGraph<N, E> graph;

    MostProbablePaths(AttackGraph<N, E> graph) {
        this.graph = graph;
    }

    /** An edge probability an attacker can use: in (0, 1]. Zero, negative, NaN and > 1 are not traversable. */
    static boolean traversable(double probability) {
        return probability > 0.0 && probability <= 1.0;
    }

    static double weight(double probability) {
        return -Math.log(probability);
    }

    /**
     * Yen's k shortest simple paths on weight {@code -ln p}.
     *
     * @return at most {@code k} simple paths from source to target with at most {@code maxHops} edges, most
     *     probable first; empty when the target cannot be reached within the bound
     */
    List<Route<N, E>> kMostProbable(N source, N target, int k, int maxHops) {
        List<Route<N, E>> accepted = new ArrayList<>();
        if (k < 1 || maxHops < 1 || source.equals(target)) {
            return accepted;
        }
        Route<N, E> first = shortest(source, target, maxHops, Set.of(), Set.of());
        if (first == null) {
            return accepted;
        }
        accepted.add(first);
        Set<List<E>> known = new HashSet<>();
        known.add(first.edges());
        PriorityQueue<Candidate<N, E>> candidates = new PriorityQueue<>();
        long sequence = 0;
        while (accepted.size() < k) {
            Route<N, E> previous = accepted.get(accepted.size() - 1);
            for (int spurIndex = 0; spurIndex < previous.hops(); spurIndex++) {
                N spurNode = previous.nodes().get(spurIndex);
                List<E> rootEdges = previous.edges().subList(0, spurIndex);
                // edges that would re-create an accepted path sharing this root
                Set<E> bannedEdges = new HashSet<>();
                for (Route<N, E> route : accepted) {
                    if (route.hops() > spurIndex && route.edges().subList(0, spurIndex).equals(rootEdges)) {
                        bannedEdges.add(route.edges().get(spurIndex));
                    }
                }
                // the spur may not revisit the root, which keeps root + spur simple
                Set<N> bannedNodes = new HashSet<>(previous.nodes().subList(0, spurIndex));
                Route<N, E> spur = shortest(spurNode, target, maxHops - spurIndex, bannedNodes, bannedEdges);
                if (spur == null) {
                    continue;
                }
                Route<N, E> total = join(previous, spurIndex, spur);
                if (known.add(total.edges())) {
                    candidates.add(new Candidate<>(total, sequence++));
                }
            }
            Candidate<N, E> best = candidates.poll();
            if (best == null) {
                break;
            }
            accepted.add(best.route());
        }
        return accepted;
    }

    /**
     * Most probable way to reach every node from {@code source} within {@code maxHops} hops, keeping only nodes
     * whose best probability is at least {@code minProbability}. The source itself is not included.
     *
     * @return reached nodes in order of decreasing probability (ties: fewer hops first)
     */
    Map<N, Reach> reachable(N source, double minProbability, int maxHops) {
        Map<N, Reach> reached = new LinkedHashMap<>();
        search(source, null, maxHops, Set.of(), Set.of(), minProbability, label -> {
            if (!reached.containsKey(label.node) && !label.node.equals(source)) {
                reached.put(label.node, new Reach(label.probability, label.hops));
            }
            return false;
        });
        return reached;
    }

    /** Best path from source to target within maxHops avoiding banned nodes and edges, or null. */
    Route<N, E> shortest(N source, N target, int maxHops, Set<N> bannedNodes, Set<E> bannedEdges) {
        List<Label<N, E>> found = new ArrayList<>(1);
        search(source, target, maxHops, bannedNodes, bannedEdges, 0.0, label -> {
            if (label.node.equals(target)) {
                found.add(label);
                return true;
            }
            return false;
        });
        return found.isEmpty() ? null : toRoute(found.get(0));
    }

    private interface Visitor<N, E> {
        /** Called for each settled label in order of increasing cost; return true to stop. */
        boolean settled(Label<N, E> label);
    }

    /**
     * Label-setting Dijkstra over states (node, hops). A label is settled in order of cost (then hops); a later
     * label of the same node is only useful if it has fewer hops, otherwise it is dominated and dropped. The
     * first settled label of a node is its most probable path within the bound, and because a node already on a
     * label's chain is settled with fewer hops, every label describes a simple path.
     */
    private void search(
            N source,
            N target,
            int maxHops,
            Set<N> bannedNodes,
            Set<E> bannedEdges,
            double minProbability,
            Visitor<N, E> visitor) {
        PriorityQueue<Label<N, E>> queue = new PriorityQueue<>();
        Map<N, Integer> settledHops = new HashMap<>();
        long sequence = 0;
        queue.add(new Label<>(source, 0, 0.0, 1.0, null, null, 0.0, sequence++));
        while (!queue.isEmpty()) {
            Label<N, E> label = queue.poll();
            Integer fewestHops = settledHops.get(label.node);
            if (fewestHops != null && fewestHops <= label.hops) {
                continue;
            }
            settledHops.put(label.node, label.hops);
            if (visitor.settled(label)) {
                return;
            }
            if (label.hops >= maxHops || label.node.equals(target)) {
                continue; // simple paths end at the target; nothing runs through it
            }
            for (Step<N, E> step : graph.outgoing(label.node)) {
                double p = step.probability();
                if (!traversable(p) || bannedEdges.contains(step.edge()) || bannedNodes.contains(step.target())) {
                    continue;
                }
                Integer targetHops = settledHops.get(step.target());
                if (targetHops != null && targetHops <= label.hops + 1) {
                    continue;
                }
                double probability = label.probability * p;
                if (probability < minProbability) {
                    continue; // probabilities only shrink along a path
                }
                queue.add(new Label<>(step.target(), label.hops + 1, label.cost + weight(p), probability, label,
                        step.edge(), p, sequence++));
            }
        }
    }

    private Route<N, E> toRoute(Label<N, E> last) {
        List<N> nodes = new ArrayList<>();
        List<E> edges = new ArrayList<>();
        List<Double> probabilities = new ArrayList<>();
        for (Label<N, E> label = last; label != null; label = label.parent) {
            nodes.add(label.node);
            if (label.parent != null) {
                edges.add(label.edge);
                probabilities.add(label.edgeProbability);
            }
        }
        Collections.reverse(nodes);
        Collections.reverse(edges);
        Collections.reverse(probabilities);
        return route(nodes, edges, probabilities);
    }

    private Route<N, E> join(Route<N, E> root, int spurIndex, Route<N, E> spur) {
        List<N> nodes = new ArrayList<>(root.nodes().subList(0, spurIndex));
        nodes.addAll(spur.nodes());
        List<E> edges = new ArrayList<>(root.edges().subList(0, spurIndex));
        edges.addAll(spur.edges());
        List<Double> probabilities = new ArrayList<>(root.edgeProbabilities().subList(0, spurIndex));
        probabilities.addAll(spur.edgeProbabilities());
        return route(nodes, edges, probabilities);
    }

    /** Probability and cost are always recomputed in path order, so equal paths get bit-identical values. */
    private Route<N, E> route(List<N> nodes, List<E> edges, List<Double> probabilities) {
        double probability = 1.0;
        double cost = 0.0;
        for (double p : probabilities) {
            probability *= p;
            cost += weight(p);
        }
        return new Route<>(List.copyOf(nodes), List.copyOf(edges), List.copyOf(probabilities), probability, cost);
    }

    private static final class Label<N, E> implements Comparable<Label<N, E>> {
        final N node;
        final int hops;
        final double cost;
        final double probability;
        final Label<N, E> parent;
        final E edge;
        final double edgeProbability;
        final long sequence;

        Label(N node, int hops, double cost, double probability, Label<N, E> parent, E edge, double edgeProbability,
                long sequence) {
            this.node = node;
            this.hops = hops;
            this.cost = cost;
            this.probability = probability;
            this.parent = parent;
            this.edge = edge;
            this.edgeProbability = edgeProbability;
            this.sequence = sequence;
        }

        @Override
        public int compareTo(Label<N, E> other) {
            int byCost = Double.compare(cost, other.cost);
            if (byCost != 0) {
                return byCost;
            }
            int byHops = Integer.compare(hops, other.hops);
            return byHops != 0 ? byHops : Long.compare(sequence, other.sequence);
        }
    }

    private record Candidate<N, E>(Route<N, E> route, long sequence) implements Comparable<Candidate<N, E>> {
        private static final Comparator<Candidate<?, ?>> ORDER = Comparator
                .<Candidate<?, ?>>comparingDouble(c -> c.route().cost())
                .thenComparingInt(c -> c.route().hops())
                .thenComparingLong(Candidate::sequence);

        @Override
        public int compareTo(Candidate<N, E> other) {
            return ORDER.compare(this, other);
        }
    }
}
