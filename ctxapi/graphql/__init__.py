"""The GraphQL API: schema assembled from domain modules, and the HTTP view that serves it."""
