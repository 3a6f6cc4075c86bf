"""Insights as plain, typed Python over facts the graph returns (docs/insights.md)."""
