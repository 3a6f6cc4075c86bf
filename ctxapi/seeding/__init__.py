"""Loading the graph from exports: record schemas, the streaming loader, demo and synthetic data."""
