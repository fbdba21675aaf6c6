"""Insights: pure queries over a store, a profile and a play rule, returning plain data."""
