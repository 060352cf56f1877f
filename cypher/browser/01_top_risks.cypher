// Top risks: assets of the newest complete run, highest compromise probability first.
// Parameters: $limit (integer, e.g. :param limit => 20)
CALL gnn.topRisks($limit) YIELD node, id, risk, rank
RETURN rank, id, node.name AS name, labels(node) AS labels, round(risk, 3) AS risk;
