"""The DuckDB warehouse: the one store every tool reads and every upstream fetch writes."""
