// Ranked attack paths materialised by the newest complete run, drawn as paths.
// Parameters: $limit (integer, e.g. :param limit => 25)
CALL gnn.rankedPaths($limit) YIELD source, target, rank, score, hops, nodeIds
MATCH p = (source)-[:ATTACK_PATH]->(target)
RETURN p, rank, round(score, 4) AS score, hops, nodeIds;
