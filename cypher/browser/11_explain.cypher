// Explain the most probable path between two assets: per-hop probability and the evidence behind it.
// Parameters: $source (asset id), $target (asset id), $maxHops (integer)
CALL gnn.explain($source, $target, $maxHops) YIELD hop, fromId, toId, type, probability, cumulative, evidence
RETURN hop, fromId, type, toId, round(probability, 4) AS probability, round(cumulative, 4) AS cumulative, evidence;
