# The gnn-neo4j CLI / daemon image.
FROM python:3.11-slim
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY gnn_neo4j/ gnn_neo4j/
COPY cypher/ cypher/
RUN pip install --no-cache-dir '.[postgres]'
USER 10001
ENTRYPOINT ["gnn-neo4j"]
CMD ["doctor"]
