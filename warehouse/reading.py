"""What every warehouse-backed answer shares: coverage checks and fetch-through-the-composer.

Data flows one way: a question reads the store; on a miss or a stale row the composer
fetches upstream, the rows are written, and the question is answered from what was written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterable

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import Query
from providers.provider import Fetched
from warehouse import landing
from warehouse.batch import Batch
from warehouse.calendar import TradingCalendar
from warehouse.curate import Curator
from warehouse.loader import SingleFlight
from warehouse.market_clock import GlobalClock, MarketClock
from warehouse.store import Landing, Warehouse

CURATED_FROM = ("daily", "adj_factor", "daily_basic")  # datasets the curated and feature rows derive from


class DatasetReader:
    def __init__(
        self,
        store: Warehouse,
        composer: Composer,
        calendar: TradingCalendar,
        flight: SingleFlight,
        clock: MarketClock,
        lookback_days: int,
        curator: Curator,
    ) -> None:
        self._store = store
        self._curator = curator
        self._composer = composer
        self._calendar = calendar
        self._flight = flight
        self._clock = clock
        self._clocks: dict[str, MarketClock | GlobalClock] = {"cn": clock, "global": GlobalClock(clock.now)}
        self._lookback = dt.timedelta(days=lookback_days)

    def _rank(self, dataset: str, market: str, source: str) -> int:
        """Where `source` stands in the composer's order (unlisted sources last): lower answers first."""
        order = [p.name for p in self._composer.order(dataset, market)]
        return order.index(source) if source in order else len(order)

    def _covered(self, dataset: str, code: str, day: dt.date, market: str = "cn") -> bool:
        """Upstream was asked about `day` recently enough that what it said (even "nothing") holds."""
        fetched = self._store.covered_at(dataset, code, day)
        return fetched is not None and self._row_fresh(market, day, fetched)

    def _row_fresh(self, market: str, day: dt.date, fetched_at: dt.datetime) -> bool:
        expires = self._clocks[market].expires_at(day, fetched_at)
        return expires is None or self._clock.now() < expires

    def _day_fresh(
        self, dataset: str, code: str, day: dt.date, row_fetched_at: dt.datetime | None, market: str = "cn"
    ) -> bool:
        """A stored row of `day` that has not expired, or a final fetch of `day` that found none."""
        if row_fetched_at is not None and self._row_fresh(market, day, row_fetched_at):
            return True
        return self._covered(dataset, code, day, market)

    def _fetch(self, query: Query, attempts: Attempts, request_id: str | None, only: str | None = None) -> None:
        """Fetch one question through the composer and load it through the layers (in a worker thread)."""
        self._store.write_all([self._prepare(query, attempts, request_id, only)[1]])

    def _prepare(
        self, query: Query, attempts: Attempts, request_id: str | None, only: str | None = None
    ) -> tuple[Fetched, Landing]:
        """`_fetch` without the write: the answer, and its landing (in a worker thread)."""
        attempts.add("warehouse", query.dataset, "miss")
        scope = f"{query.dataset}@{only}" if only else f"{query.dataset}_latest" if query.latest else query.dataset

        def curate(batch: Batch, fetched: Fetched) -> Iterable[str]:
            start = min(query.start, fetched.rows["trade_date"].min()) if len(fetched.rows) else query.start
            return self._curator.defer(batch, [query.code], start, query.end)

        return landing.fetch(self._store, self._composer, query, attempts, request_id, self._clock.now, scope=scope,
                             only=only, derive=curate if query.dataset in CURATED_FROM else None)  # fmt: skip

    async def _ensure(
        self, attempts: Attempts, query: Query, fresh: Callable[[], bool], request_id: str | None,
        key: Hashable | None = None, only: str | None = None,
    ) -> None:  # fmt: skip
        """Single-flight fetch-on-miss of `query` until `fresh()`, logging where the answer came from."""
        fetched = await self._flight.ensure(
            query.dataset, key or query, fresh, lambda: self._fetch(query, attempts, request_id, only)
        )
        if not fetched:
            attempts.add("warehouse", query.dataset, "hit")

    async def _ensure_window(
        self, attempts: Attempts, dataset: str, code: str, market: str, day: dt.date,
        fresh: Callable[[], bool], request_id: str | None,
    ) -> None:  # fmt: skip
        """Make `fresh()` true by fetching the lookback window of `dataset` that ends on `day`."""
        query = Query(dataset, code, market, day - self._lookback, day)
        await self._ensure(attempts, query, fresh, request_id)
