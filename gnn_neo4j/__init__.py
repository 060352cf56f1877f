"""gnn-neo4j: score attack paths in a Neo4j graph with graph neural networks."""

__version__ = "0.1.0"
