"""Prometheus metrics of one server process, on a registry of its own (tests run several)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.tool_calls = Counter("twilight_tool_calls", "MCP tool calls", ["tool", "outcome"], registry=self.registry)
        self.tool_latency = Histogram(
            "twilight_tool_latency_seconds", "MCP tool latency", ["tool", "outcome"],
            buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.upstream_calls = Counter(
            "twilight_upstream_calls", "Upstream API calls", ["provider", "dataset", "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.store_lookups = Counter(
            "twilight_store_lookups", "Warehouse lookups before upstream (hit = no upstream call)",
            ["dataset", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.http_requests = Counter(
            "twilight_http_requests", "HTTP requests", ["path", "status"], registry=self.registry
        )
        self.verifications = Counter(
            "twilight_verifications", "Replies verified against the ledger", ["verdict"], registry=self.registry
        )
        self.verified_claims = Counter(
            "twilight_verified_claims", "Claims in verified replies, by status", ["status"], registry=self.registry
        )

        self._children: dict[tuple[Any, ...], Any] = {}

    def _of(self, metric: Counter | Histogram, *labels: str) -> Any:
        """`metric.labels(*labels)`, kept: prometheus_client checks and locks on every `labels` call,
        and a cache hit made ten of them (a few percent of its time)."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def verification(self, verdict: str, statuses: list[str]) -> None:
        self._of(self.verifications, verdict).inc()
        for status in statuses:
            self._of(self.verified_claims, status).inc()

    def tool_call(self, tool: str, outcome: str, seconds: float) -> None:
        self._of(self.tool_calls, tool, outcome).inc()
        self._of(self.tool_latency, tool, outcome).observe(seconds)

    def upstream(self, provider: str, dataset: str, outcome: str) -> None:
        self._of(self.upstream_calls, provider, dataset, outcome).inc()

    def http_request(self, path: str, status: int) -> None:
        self._of(self.http_requests, path, str(status)).inc()

    def store_lookup(self, dataset: str, outcome: str) -> None:
        self._of(self.store_lookups, dataset, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
