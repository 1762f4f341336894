"""When upstream was last asked about a day, from memory: fetch_log's spans per (dataset, scope).

Every question asks "was this day asked recently?" two to six times, and each ask was a DuckDB
query (about 1 ms) that any load, of any code, made stale. The spans of one (dataset, scope)
are read once; a load adds its span after its commit. fetch_log is append-only and written only
by `Warehouse.load`, so this is the table's own answer, not a second truth.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

Span = tuple[dt.date, dt.date, dt.datetime]  # start, end, fetched_at (naive UTC)
# Spans remembered over all scopes, forgotten whole when exceeded: a bound on memory.
_MAX_SPANS = 500_000


class CoverageIndex:
    def __init__(self, read: Callable[[str, str], list[Span]]) -> None:
        """`read(dataset, scope)` returns that pair's spans from fetch_log."""
        self._read = read
        self._spans: dict[tuple[str, str], list[Span]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every committed span, so that a read racing a load is not kept

    def latest(self, dataset: str, scope: str, day: dt.date) -> dt.datetime | None:
        """The latest time upstream was asked about `day` (naive UTC), or None."""
        spans = self._spans.get((dataset, scope))
        if spans is None:
            spans = self._load(dataset, scope)
        return max((fetched for start, end, fetched in spans if start <= day <= end), default=None)

    def _load(self, dataset: str, scope: str) -> list[Span]:
        with self._lock:
            before = self._generation
        spans = self._read(dataset, scope)
        with self._lock:
            # A load that committed meanwhile may be missing from `spans`: answer with them, keep nothing.
            if self._generation == before and (dataset, scope) not in self._spans:
                if self._count + len(spans) > _MAX_SPANS:
                    self._spans.clear()
                    self._count = 0
                self._spans[(dataset, scope)] = spans
                self._count += len(spans)
        return spans

    def committed(self, dataset: str, scope: str, span: Span) -> None:
        """A load's span, once its transaction has committed."""
        with self._lock:
            self._generation += 1
            known = self._spans.get((dataset, scope))
            if known is not None:
                known.append(span)  # a reader iterating it meanwhile sees the span or not, either is true
                self._count += 1
