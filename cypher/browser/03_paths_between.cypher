// The k most probable paths between two assets, computed now from gnn_exploit_prob.
// Parameters: $source (asset id), $target (asset id), $k (integer), $maxHops (integer)
CALL gnn.attackPaths($source, $target, $k, $maxHops) YIELD path, probability, hops, rank
RETURN rank, round(probability, 4) AS probability, hops, path;
