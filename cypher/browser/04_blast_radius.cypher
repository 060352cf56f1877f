// Blast radius: what an attacker on $source reaches with at least $minProb probability.
// Parameters: $source (asset id), $minProb (float 0..1), $maxHops (integer)
CALL gnn.blastRadius($source, $minProb, $maxHops) YIELD node, id, probability, hops
RETURN id, labels(node) AS labels, round(probability, 3) AS probability, hops
ORDER BY probability DESC;
