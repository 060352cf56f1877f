// Record an analyst verdict on an attack edge or asset; the next training run uses it.
// Parameters: $target (asset id or relationship elementId), $verdict ('exploitable' | 'not_exploitable' |
//             'true_positive' | 'false_positive'), $note (string)
CALL gnn.feedback($target, $verdict, $note) YIELD target, verdict, recordedAt
RETURN target, verdict, recordedAt;
