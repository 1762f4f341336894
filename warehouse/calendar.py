"""The exchange calendar, loaded one year at a time (`trade_cal`, through the composer) into the store.

When no provider has a calendar for a year (no tushare token, a mirror that lags, a new year
not yet published), `is_open` answers None and callers fall back to the weekday rule, saying
so in their cite. A failed fetch is not repeated for a while, so that a missing calendar
costs one upstream attempt, not one per question.
"""

from __future__ import annotations

import datetime as dt

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import Query
from providers.errors import ProviderError
from warehouse.landing import land
from warehouse.loader import SingleFlight
from warehouse.market_clock import MarketClock
from warehouse.store import Warehouse

EXCHANGE = "SSE"  # SSE and SZSE share one calendar
_CURRENT_YEAR_TTL = dt.timedelta(hours=12)
_RETRY_FAILED = dt.timedelta(minutes=10)


class TradingCalendar:
    def __init__(self, store: Warehouse, composer: Composer, flight: SingleFlight, clock: MarketClock):
        self._store = store
        self._composer = composer
        self._flight = flight
        self._clock = clock
        self._years: dict[int, tuple[dt.datetime, dict[dt.date, bool]]] = {}
        self._failed: dict[int, tuple[dt.datetime, str]] = {}

    def _year_fresh(self, year: int) -> bool:
        failed = self._failed.get(year)
        if failed is not None and self._clock.now() - failed[0] < _RETRY_FAILED:
            return True
        loaded = self._years.get(year)
        if loaded is None:
            fetched = self._store.covered_at("trade_cal", EXCHANGE, dt.date(year, 1, 1))
            if fetched is None or not self._fresh(year, fetched):
                return False
            self._years[year] = (fetched, self._read(year))
            return True
        return self._fresh(year, loaded[0])

    def _fresh(self, year: int, fetched: dt.datetime) -> bool:
        if year < self._clock.today().year:
            return fetched >= self._clock.at(dt.date(year + 1, 1, 1), dt.time(0))
        return self._clock.now() - fetched < _CURRENT_YEAR_TTL

    def _read(self, year: int) -> dict[dt.date, bool]:
        rows = self._store.read(
            ("norm_trade_cal",),
            "SELECT cal_date, is_open FROM norm_trade_cal WHERE exchange = ? AND cal_date BETWEEN ? AND ?",
            (EXCHANGE, dt.date(year, 1, 1), dt.date(year, 12, 31)),
        )
        return {day: bool(is_open) for day, is_open in rows}

    def _fetch(self, year: int) -> None:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
        query = Query("trade_cal", EXCHANGE, "cn", start, end)
        try:
            fetched = land(self._store, self._composer, query, Attempts(), None, self._clock.now)
        except ProviderError as exc:
            self._failed[year] = (self._clock.now(), f"{type(exc).__name__}: {exc}")
            return
        self._failed.pop(year, None)
        self._years[year] = (fetched.raw.fetched_at, self._read(year))

    async def is_open(self, day: dt.date) -> bool | None:
        """From the year held in memory while it is fresh (a price asks five times: no flight, and no
        store lookup counted); else through the single flight that reads or fetches it."""
        year = day.year
        if not self._year_fresh(year):
            await self._flight.ensure("trade_cal", ("trade_cal", year), lambda: self._year_fresh(year),
                                      lambda: self._fetch(year))  # fmt: skip
        loaded = self._years.get(year)
        return loaded[1].get(day) if loaded else None

    async def is_open_or_weekday(self, day: dt.date) -> tuple[bool, str]:
        """Whether `day` is a trading day, and the basis of the answer."""
        known = await self.is_open(day)
        if known is None:
            failed = self._failed.get(day.year)
            why = f"trade_cal unavailable: {failed[1]}" if failed else "no trade_cal for this year"
            return day.weekday() < 5, f"weekday rule ({why})"
        return known, "exchange calendar (trade_cal)"

    async def latest_open_on_or_before(self, day: dt.date) -> dt.date:
        for back in range(0, 40):
            candidate = day - dt.timedelta(days=back)
            if (await self.is_open_or_weekday(candidate))[0]:
                return candidate
        return day

    async def latest_final_day(self) -> dt.date:
        """The newest trading day whose bar is final upstream as of now."""
        today = self._clock.today()
        if (await self.is_open_or_weekday(today))[0] and self._clock.now() >= self._clock.final_of(today):
            return today
        return await self.latest_open_on_or_before(today - dt.timedelta(days=1))
