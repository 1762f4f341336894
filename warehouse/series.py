"""Rows of one scope (a code, an indicator) over a date window, for any dataset declared with a date.

The one windowed read the series tools share (index bars, fund bars and factors, money flow,
macro series): every day of the window must have been asked upstream recently enough that what
it said holds, or the missing part is fetched through the composer and lands through the layers;
then the window is read from the store. A day's freshness follows the dataset's date:

- a trade date follows the market clock (`DatasetReader._row_fresh`): a day asked after its
  final time never expires, today's expires at the close and again at the final time;
- a macro period (the first day of the month a figure measures) is published weeks later and
  may be revised, so a period asked within `_SETTLED` of its start is asked again after a day.

Long windows are asked in parts of five years (about 1,220 trading days), under tushare's smallest row
cap among these datasets (fund_daily's 2,000 rows), so that a capped answer never leaves a silent hole.

The rows answered are one source's, the first in the composer's order with rows in the window,
so that a series never mixes two sources' conventions (akshare's PPI has an index level where
tushare's has none).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from citation.attempts import Attempts
from providers.contract import Query
from providers.declaration import Dataset
from providers.symbols import FIRST_TRADING_DAY
from warehouse.pointintime import Found, Row, found_rows, select_list
from warehouse.reading import DatasetReader

_PART = dt.timedelta(days=5 * 366)
# NBS's and PBoC's monthly figures are out about six weeks after the month starts (M2, social financing mid next month)
_SETTLED = {name: dt.timedelta(days=75) for name in ("macro", "money_supply", "social_financing")}
_UNSETTLED_TTL = dt.timedelta(hours=24)
_DESCRIBED_TTL = dt.timedelta(days=7)  # names and listing dates of an index or a fund rarely change
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """One source's rows of a scope in [start, end], in date order."""

    spec: Dataset
    rows: list[Row]
    source: str | None  # None when no source has a row in the window
    fetched_at: dt.datetime | None  # the newest fetch of the rows answered (aware, UTC)
    sources: tuple[str, ...]  # every source with rows in the window, the answering one first


class SeriesReader(DatasetReader):
    def _day_known(self, spec: Dataset, scope: str, day: dt.date) -> bool:
        fetched = self._store.covered_at(spec.name, scope, day)
        if fetched is None:
            return False
        settled = _SETTLED.get(spec.name)
        if settled is None:
            return self._row_fresh("cn", day, fetched)
        return fetched.date() - day >= settled or self._clock.now() - fetched < _UNSETTLED_TTL

    def _window_known(self, spec: Dataset, scope: str, start: dt.date, end: dt.date) -> bool:
        day = start
        while day <= end:
            if not self._day_known(spec, scope, day):
                return False
            day += _ONE_DAY
        return True

    async def window(
        self, spec: Dataset, scope: str, start: dt.date, end: dt.date, attempts: Attempts, request_id: str | None
    ) -> Window:
        """The rows of `scope` with their date in [start, end], fetched first where the store does not know them."""
        if spec.date is None:
            raise ValueError(f"dataset {spec.name} has no date column: it has no windows")
        part_start = start
        while part_start <= end:
            part_end = min(end, part_start + _PART)
            fresh = functools.partial(self._window_known, spec, scope, part_start, part_end)
            query = Query(spec.name, scope, "cn", part_start, part_end)
            await self._ensure(attempts, query, fresh, request_id)
            part_start = part_end + _ONE_DAY
        sql = (
            f"SELECT source, {select_list(spec)}, fetched_at FROM {spec.table}"
            f" WHERE {spec.scope} = ? AND {spec.date} BETWEEN ? AND ? ORDER BY {spec.date}"
        )
        found = found_rows(spec, self._store.read((spec.table,), sql, (scope, start, end), scope=scope))
        return self._one_source(spec, found)

    async def behind(self, window: Window, scope: str, last: dt.date) -> str | None:
        """Why the window's newest row is older than a window ending on `last` should hold, or None.

        An upstream months behind answers its newest rows as if they were the latest, so the answer
        says how far behind they are: a month is due by `_SETTLED` after it starts (later than any
        source publishes it), a trading day (or a Shibor fixing) once its bar is final.
        """
        spec = window.spec
        if not window.rows or spec.date is None:
            return None
        newest: dt.date = window.rows[-1][spec.date]
        settled = _SETTLED.get(spec.name)
        if settled is not None:
            due = (last - settled).replace(day=1)  # the newest month certainly published by `last`
            months = (due.year - newest.year) * 12 + due.month - newest.month
            if months <= 0:
                return None
            return (f"the newest month any provider has of {scope} is {newest:%Y-%m}, {months} months before"
                    f" {due:%Y-%m}, which is published by {last.isoformat()} (the source is behind)")  # fmt: skip
        if spec.date != "trade_date" and spec.name != "shibor":
            return None  # Shibor is fixed every interbank working day, which every SSE trading day is
        final = await self._calendar.latest_final_day()
        due = await self._calendar.latest_open_on_or_before(min(last, final))
        if newest >= due:
            return None
        return (f"the newest row any provider has of {scope} is of {newest.isoformat()}, {(due - newest).days} days"
                f" before the trading day {due.isoformat()} (no row that day, or the source is behind)")  # fmt: skip

    def _one_source(self, spec: Dataset, found: list[Found]) -> Window:
        sources = sorted({f.source for f in found}, key=lambda s: self._rank(spec.name, "cn", s))
        if not sources:
            return Window(spec, [], None, None, ())
        mine = [f for f in found if f.source == sources[0]]
        return Window(spec, [f.row for f in mine], sources[0], max(f.fetched_at for f in mine), tuple(sources))

    async def describe(self, spec: Dataset, scope: str, attempts: Attempts, request_id: str | None) -> Found | None:
        """The one row a descriptive dataset (index_basic, fund_basic) has of `scope`, or None when upstream
        has none; asked again after a week."""
        query = Query(spec.name, scope, "cn", FIRST_TRADING_DAY, FIRST_TRADING_DAY)
        await self._ensure(attempts, query, functools.partial(self._described, spec, scope), request_id)
        sql = f"SELECT source, {select_list(spec)}, fetched_at FROM {spec.table} WHERE {spec.scope} = ?"
        found = found_rows(spec, self._store.read((spec.table,), sql, (scope,), scope=scope))
        return min(found, key=lambda f: self._rank(spec.name, "cn", f.source), default=None)

    def _described(self, spec: Dataset, scope: str) -> bool:
        fetched = self._store.covered_at(spec.name, scope, FIRST_TRADING_DAY)
        return fetched is not None and self._clock.now() - fetched < _DESCRIBED_TTL
