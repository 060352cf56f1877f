from gnn_neo4j.cli import main

if __name__ == "__main__":
    main()
