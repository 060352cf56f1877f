// Current run: generation, model version, counts and metrics of the newest complete GnnRun.
// Parameters: none
CALL gnn.status() YIELD generation, modelVersion, startedAt, finishedAt, counts, metrics
RETURN generation, modelVersion, startedAt, finishedAt, counts, metrics;
