// What if: crown-jewel risk before and after remediating the given attack edges (relationship element ids).
// Parameters: $relationships (list of relationship elementIds), $maxHops (integer)
CALL gnn.whatIf($relationships, $maxHops) YIELD id, before, after, delta
RETURN id, round(before, 4) AS before, round(after, 4) AS after, round(delta, 4) AS delta;
