"""Upstream data providers: one module per provider x dataset, all answering standard models."""
