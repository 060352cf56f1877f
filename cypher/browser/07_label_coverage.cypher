// How many attack edges carry an observed outcome (exploited) or analyst feedback, per relationship type.
// Parameters: $types (list of relationship type names, e.g. ['CAN_REACH', 'HAS_SESSION'])
MATCH (:Asset)-[r]->(:Asset)
WHERE type(r) IN $types
RETURN type(r) AS type, count(*) AS edges, count(r.exploited) AS outcomes, count(r.gnn_feedback) AS feedback
ORDER BY edges DESC;
