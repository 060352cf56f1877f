package io.gnnneo4j.procedures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The path search against brute force: every simple path enumerated on small random multigraphs (parallel edges,
 * cycles, unusable probabilities), for many seeds, k and hop bounds.
 */
class MostProbablePathsTest {

    private record Edge(String id, String from, String to, double p) {}

    private record Graph(List<String> nodes, Map<String, List<MostProbablePaths.Step<String, String>>> out) {}

    private static Graph randomGraph(Random random) {
        int n = 3 + random.nextInt(6);
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add("n" + i);
        }
        Map<String, List<MostProbablePaths.Step<String, String>>> out = new HashMap<>();
        int edges = n + random.nextInt(n * 4);
        for (int e = 0; e < edges; e++) {
            String from = nodes.get(random.nextInt(n));
            String to = nodes.get(random.nextInt(n));
            if (from.equals(to)) {
                continue;
            }
            double roll = random.nextDouble();
            double p = roll < 0.05 ? 0.0 : roll < 0.08 ? 1.5 : roll < 0.12 ? 1.0 : 0.05 + 0.9 * random.nextDouble();
            out.computeIfAbsent(from, k -> new ArrayList<>()).add(new MostProbablePaths.Step<>("e" + e, to, p));
        }
        return new Graph(nodes, out);
    }

    private static MostProbablePaths<String, String> search(Graph graph) {
        return new MostProbablePaths<>(node -> graph.out().getOrDefault(node, List.of()));
    }

    /** All simple paths source -> target with at most maxHops usable edges: edge ids and probability. */
    private static List<Map.Entry<List<String>, Double>> allPaths(Graph graph, String source, String target, int maxHops) {
        List<Map.Entry<List<String>, Double>> found = new ArrayList<>();
        Set<String> onPath = new HashSet<>();
        onPath.add(source);
        walk(graph, source, target, maxHops, onPath, new ArrayList<>(), 1.0, found);
        return found;
    }

    private static void walk(Graph graph, String node, String target, int hopsLeft, Set<String> onPath,
            List<String> edges, double probability, List<Map.Entry<List<String>, Double>> found) {
        if (node.equals(target)) {
            found.add(Map.entry(List.copyOf(edges), probability));
            return;
        }
        if (hopsLeft == 0) {
            return;
        }
        for (MostProbablePaths.Step<String, String> step : graph.out().getOrDefault(node, List.of())) {
            if (!MostProbablePaths.traversable(step.probability()) || onPath.contains(step.target())) {
                continue;
            }
            onPath.add(step.target());
            edges.add(step.edge());
            walk(graph, step.target(), target, hopsLeft - 1, onPath, edges, probability * step.probability(), found);
            edges.remove(edges.size() - 1);
            onPath.remove(step.target());
        }
    }

    @Test
    void yenMatchesBruteForce() {
        int compared = 0;
        for (int seed = 0; seed < 400; seed++) {
            Random random = new Random(seed);
            Graph graph = randomGraph(random);
            String source = graph.nodes().get(0);
            String target = graph.nodes().get(graph.nodes().size() - 1);
            int maxHops = 1 + random.nextInt(5);
            int k = 1 + random.nextInt(8);
            List<Map.Entry<List<String>, Double>> expected = allPaths(graph, source, target, maxHops);
            expected.sort(Map.Entry.<List<String>, Double>comparingByValue().reversed());
            List<MostProbablePaths.Route<String, String>> routes = search(graph).kMostProbable(source, target, k, maxHops);

            String context = "seed " + seed;
            assertEquals(Math.min(k, expected.size()), routes.size(), context);
            Set<List<String>> distinct = new HashSet<>();
            Set<List<String>> all = new HashSet<>();
            expected.forEach(entry -> all.add(entry.getKey()));
            for (int i = 0; i < routes.size(); i++) {
                MostProbablePaths.Route<String, String> route = routes.get(i);
                // same probability at each rank (ties may be broken differently), and a real, new path
                assertEquals(expected.get(i).getValue(), route.probability(), 1e-12, context + " rank " + (i + 1));
                assertTrue(all.contains(route.edges()), context);
                assertTrue(distinct.add(route.edges()), context);
                assertTrue(route.hops() <= maxHops, context);
                assertEquals(route.hops() + 1, new HashSet<>(route.nodes()).size(), context + " simple");
                assertEquals(source, route.nodes().get(0), context);
                assertEquals(target, route.nodes().get(route.hops()), context);
            }
            compared += routes.size();
        }
        assertTrue(compared > 500, "the random graphs must actually contain paths: " + compared);
    }

    @Test
    void reachableMatchesBruteForce() {
        int compared = 0;
        for (int seed = 0; seed < 400; seed++) {
            Random random = new Random(1000 + seed);
            Graph graph = randomGraph(random);
            String source = graph.nodes().get(0);
            int maxHops = 1 + random.nextInt(5);
            double minProbability = random.nextDouble() * 0.5;
            Map<String, Double> expected = new LinkedHashMap<>();
            for (String node : graph.nodes()) {
                if (node.equals(source)) {
                    continue;
                }
                allPaths(graph, source, node, maxHops).stream()
                        .map(Map.Entry::getValue)
                        .max(Comparator.naturalOrder())
                        .filter(p -> p >= minProbability)
                        .ifPresent(p -> expected.put(node, p));
            }
            Map<String, MostProbablePaths.Reach> reached = search(graph).reachable(source, minProbability, maxHops);
            assertEquals(expected.keySet(), reached.keySet(), "seed " + seed);
            for (Map.Entry<String, Double> entry : expected.entrySet()) {
                MostProbablePaths.Reach reach = reached.get(entry.getKey());
                assertEquals(entry.getValue(), reach.probability(), 1e-12, "seed " + seed);
                assertTrue(reach.hops() >= 1 && reach.hops() <= maxHops, "seed " + seed);
            }
            compared += expected.size();
        }
        assertTrue(compared > 500, "the random graphs must actually reach nodes: " + compared);
    }

    @Test
    void boundedSearchKeepsLongerCheaperPrefixesFromBlockingShortPaths() {
        // s -> x directly is improbable, s -> y -> z -> x is probable; with 2 hops only s -> x -> t exists
        Map<String, List<MostProbablePaths.Step<String, String>>> out = Map.of(
                "s", List.of(new MostProbablePaths.Step<>("sx", "x", 0.1), new MostProbablePaths.Step<>("sy", "y", 0.9)),
                "y", List.of(new MostProbablePaths.Step<>("yz", "z", 0.9)),
                "z", List.of(new MostProbablePaths.Step<>("zx", "x", 0.9)),
                "x", List.of(new MostProbablePaths.Step<>("xt", "t", 0.9)));
        MostProbablePaths<String, String> search = new MostProbablePaths<>(node -> out.getOrDefault(node, List.of()));
        for (int maxHops = 2; maxHops <= 3; maxHops++) {
            // with 3 hops x is first settled via y, z (3 hops) - the 1-hop label of x must still be expanded
            List<MostProbablePaths.Route<String, String>> bounded = search.kMostProbable("s", "t", 5, maxHops);
            assertEquals(List.of(List.of("sx", "xt")), bounded.stream().map(MostProbablePaths.Route::edges).toList());
            assertEquals(0.1 * 0.9, bounded.get(0).probability(), 1e-15);
            assertEquals(Map.of("y", new MostProbablePaths.Reach(0.9, 1), "z", new MostProbablePaths.Reach(0.9 * 0.9, 2),
                            "x", new MostProbablePaths.Reach(maxHops == 3 ? 0.9 * 0.9 * 0.9 : 0.1, maxHops == 3 ? 3 : 1),
                            "t", new MostProbablePaths.Reach(0.1 * 0.9, 2)),
                    search.reachable("s", 0.0, maxHops));
        }
        List<MostProbablePaths.Route<String, String>> fourHops = search.kMostProbable("s", "t", 5, 4);
        assertEquals(List.of(List.of("sy", "yz", "zx", "xt"), List.of("sx", "xt")),
                fourHops.stream().map(MostProbablePaths.Route::edges).toList());
    }
}
