// Crown jewels and the entry points that reach them through scored attack edges (up to 6 hops).
// Parameters: none
MATCH (jewel:Asset {critical: true})
OPTIONAL MATCH p = (entry:Asset {internet_exposed: true})-[*1..6]->(jewel)
WHERE all(r IN relationships(p) WHERE r.gnn_exploit_prob > 0)
RETURN jewel.id AS crown_jewel, jewel.gnn_risk AS risk, count(DISTINCT entry) AS reaching_entry_points
ORDER BY risk DESC;
