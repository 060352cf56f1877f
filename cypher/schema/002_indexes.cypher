// Indexes for entry points, crown jewels and the write-back properties the procedures read.
// Parameters: none. Idempotent (IF NOT EXISTS). Applied by `gnn-neo4j db init`.
CREATE INDEX asset_internet_exposed IF NOT EXISTS FOR (n:Asset) ON (n.internet_exposed);
CREATE INDEX asset_critical IF NOT EXISTS FOR (n:Asset) ON (n.critical);
CREATE INDEX asset_gnn_risk IF NOT EXISTS FOR (n:Asset) ON (n.gnn_risk);
CREATE INDEX asset_gnn_generation IF NOT EXISTS FOR (n:Asset) ON (n.gnn_generation);
CREATE INDEX gnnrun_status IF NOT EXISTS FOR (n:GnnRun) ON (n.status);
// (:Asset)-[:ATTACK_PATH]->(:Asset)
CREATE INDEX attack_path_generation IF NOT EXISTS FOR ()-[r:ATTACK_PATH]-() ON (r.generation);
