"""Fetch-on-miss with single flight: one upstream call per missing piece, however many ask.

Each piece of data has a key and a freshness predicate that reads the store. Callers that
find it fresh never wait; callers that miss queue on the key's lock and re-check once they
hold it, so 30 concurrent cold calls make one upstream call and 29 store reads.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import anyio
import anyio.to_thread

Fresh = Callable[[], bool]
Lookup = Callable[[str, str], None]  # (dataset, "hit" or "miss") after every store lookup


class SingleFlight:
    def __init__(self, lookup: Lookup) -> None:
        self._locks: dict[Hashable, anyio.Lock] = {}
        self._lookup = lookup

    async def ensure(self, dataset: str, key: Hashable, fresh: Fresh, fetch: Callable[[], object]) -> bool:
        """Make `fresh()` true, fetching at most once per key at a time; True if this call fetched."""
        if fresh():
            self._lookup(dataset, "hit")
            return False
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                if fresh():
                    self._lookup(dataset, "hit")
                    return False
                self._lookup(dataset, "miss")
                await anyio.to_thread.run_sync(fetch)
                return True
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(key, None)
