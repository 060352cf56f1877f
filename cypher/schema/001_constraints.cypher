// Uniqueness constraints of the canonical schema (DESIGN.md "Graph contract").
// Parameters: none. Idempotent (IF NOT EXISTS). Applied by `gnn-neo4j db init`.
CREATE CONSTRAINT asset_id IF NOT EXISTS FOR (n:Asset) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT subnet_id IF NOT EXISTS FOR (n:Subnet) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT securitygroup_id IF NOT EXISTS FOR (n:SecurityGroup) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT software_id IF NOT EXISTS FOR (n:Software) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT vulnerability_id IF NOT EXISTS FOR (n:Vulnerability) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT gnnrun_generation IF NOT EXISTS FOR (n:GnnRun) REQUIRE n.generation IS UNIQUE;
