"""Fetch-on-miss with single flight: one upstream call per missing piece, however many ask.

Each piece of data has a key and a freshness predicate that reads the store. Callers that
find it fresh never wait; callers that miss queue on the key's lock and re-check once they
hold it, so 30 concurrent cold calls make one upstream call and 29 store reads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import AsyncIterator, Callable, Hashable
from typing import TypeVar

import anyio
import anyio.to_thread
import structlog

Fresh = Callable[[], bool]
T = TypeVar("T")
log = structlog.get_logger("warehouse.loader")
Lookup = Callable[[str, str], None]  # (dataset, "hit" or "miss") after every store lookup


class SingleFlight:
    def __init__(self, lookup: Lookup) -> None:
        self._locks: dict[Hashable, anyio.Lock] = {}
        self._lookup = lookup
        self._landing: set[asyncio.Task[None]] = set()  # held here until done: the loop keeps only weak ones

    async def ensure(self, dataset: str, key: Hashable, fresh: Fresh, fetch: Callable[[], object]) -> bool:
        """Make `fresh()` true, fetching at most once per key at a time; True if this call fetched."""
        if fresh():
            self._lookup(dataset, "hit")
            return False
        async with self._holding(key):
            if fresh():
                self._lookup(dataset, "hit")
                return False
            self._lookup(dataset, "miss")
            await anyio.to_thread.run_sync(fetch)
            return True

    @contextlib.asynccontextmanager
    async def _holding(self, key: Hashable) -> AsyncIterator[None]:
        """The key's lock, held; the lock is forgotten once nobody holds or awaits it."""
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(key, None)

    async def answer_then_land(
        self, dataset: str, key: Hashable, fresh: Fresh,
        fetch: Callable[[], tuple[T, concurrent.futures.Future[None]]],
    ) -> T | None:  # fmt: skip
        """`ensure` for a question that answers from what it fetched: `fetch()` returns (answer, landed),
        `landed` being its load already handed to the store's writer (`Warehouse.write_behind`, which
        makes the store's readers wait for it, since the key alone does not stop a question under
        another key). The answer comes back at once; the key is held until the load has landed (a
        second asker waits, then finds the rows). None when `fresh()` held: read the store.

        The load is handed over by the fetching thread itself, so it lands even if the event loop
        stops before this coroutine resumes: readers never wait for a load that nobody will write.
        """
        if fresh():
            self._lookup(dataset, "hit")
            return None
        answered: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            async with self._holding(key):
                if fresh():
                    self._lookup(dataset, "hit")
                    answered.set_result(None)
                    return
                self._lookup(dataset, "miss")
                try:
                    answer, landing = await anyio.to_thread.run_sync(fetch)
                except BaseException as exc:  # the asker's to raise, not this task's
                    answered.set_exception(exc)
                    return
                answered.set_result(answer)
                try:
                    await asyncio.wrap_future(landing)
                except Exception:  # the answer stands; the next question fetches again
                    log.exception("landing_failed", dataset=dataset)

        task = asyncio.ensure_future(run())
        self._landing.add(task)
        task.add_done_callback(self._landing.discard)
        return await answered
