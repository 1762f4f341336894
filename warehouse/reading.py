"""What every warehouse-backed answer shares: the attempt log, coverage checks, fetch-and-load."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from providers.errors import ProviderError
from providers.tushare.client import NAME as TUSHARE
from providers.tushare.client import TushareClient
from warehouse.calendar import TradingCalendar
from warehouse.loader import SingleFlight
from warehouse.market_clock import MarketClock
from warehouse.store import Coverage, Warehouse


@dataclass
class Attempts:
    """The ordered log of where numbers were looked for: the store first, then upstreams."""

    log: list[dict[str, Any]] = field(default_factory=list)

    def add(self, provider: str, dataset: str, outcome: str, detail: str | None = None) -> None:
        entry: dict[str, Any] = {"provider": provider, "dataset": dataset, "outcome": outcome}
        if detail:
            entry["detail"] = detail
        self.log.append(entry)

    @property
    def chain(self) -> list[str]:
        seen: list[str] = []
        for entry in self.log:
            if entry["provider"] not in seen:
                seen.append(entry["provider"])
        return seen


class DatasetReader:
    def __init__(
        self,
        store: Warehouse,
        tushare: TushareClient,
        calendar: TradingCalendar,
        flight: SingleFlight,
        clock: MarketClock,
        lookback_days: int,
    ) -> None:
        self._store = store
        self._tushare = tushare
        self._calendar = calendar
        self._flight = flight
        self._clock = clock
        self._lookback = dt.timedelta(days=lookback_days)

    def _final_coverage(self, dataset: str, code: str, day: dt.date) -> bool:
        fetched = self._store.covered_at(dataset, code, day)
        return fetched is not None and self._clock.is_final(day, fetched)

    def _day_fresh(self, dataset: str, code: str, day: dt.date, row_fetched_at: dt.datetime | None) -> bool:
        """A stored row of `day` that has not expired, or a final fetch of `day` that found none."""
        if row_fetched_at is not None:
            expires = self._clock.expires_at(day, row_fetched_at)
            if expires is None or self._clock.now() < expires:
                return True
        return self._final_coverage(dataset, code, day)

    def _fetch(self, module: Any, code: str, start: dt.date, end: dt.date, request_id: str | None) -> None:
        """Fetch one dataset window for a code and load it (runs in a worker thread)."""
        raw = self._tushare.query(module.API, module.translate_query(code, start, end), request_id)
        rows = module.translate_result(self._tushare.frame(raw))
        self._store.load(module.TABLE, rows, raw, Coverage(module.API, code, start, end))

    async def _ensure_window(
        self, attempts: Attempts, module: Any, code: str, day: dt.date, fresh: Any, request_id: str | None
    ) -> None:
        """Make `fresh()` true by fetching the lookback window of `module`'s dataset that ends on `day`."""
        start = day - self._lookback
        await self._ensure(
            attempts, module.API, (module.API, code, day), fresh,
            lambda: self._fetch(module, code, start, day, request_id),
        )  # fmt: skip

    async def _ensure(self, attempts: Attempts, dataset: str, key: tuple[Any, ...], fresh: Any, fetch: Any) -> None:
        """Single-flight fetch-on-miss, logging where the answer came from."""
        try:
            fetched = await self._flight.ensure(dataset, key, fresh, fetch)
        except ProviderError as exc:
            attempts.add("warehouse", dataset, "miss")
            attempts.add(TUSHARE, dataset, type(exc).__name__, str(exc))
            raise
        attempts.add("warehouse", dataset, "miss" if fetched else "hit")
        if fetched:
            attempts.add(TUSHARE, dataset, "ok")
