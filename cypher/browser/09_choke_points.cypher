// Choke points: attack edges whose remediation removes the most crown-jewel risk.
// Parameters: $limit (integer), $maxHops (integer)
CALL gnn.chokePoints($limit, $maxHops) YIELD relationship, sourceId, targetId, type, reduction, crownJewels
RETURN sourceId, type, targetId, round(reduction, 4) AS reduction, crownJewels, elementId(relationship) AS edge;
