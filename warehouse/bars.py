"""A window of one code's daily bars and factors in the warehouse, fetched where it is missing.

`price` ensures one day; a chart needs a window. The same fetch-through applies: a day is held
when upstream was asked about it recently enough that its answer stands (`_covered`: a final
day's answer never expires, today's expires at the close), and only the span from the first to
the last day not held is asked, once, through the composer and the layers. The factors are
asked up to the latest final trading day, so that forward adjustment (qfq) is to the newest
factor the source has, as `price`'s close_qfq is. The rows are then read as `warehouse_daily`
reads them (`WarehouseViews.daily`).
"""

from __future__ import annotations

import datetime as dt
import functools

from citation.attempts import Attempts
from providers.contract import ALL, Query
from providers.symbols import InvalidArgument
from warehouse.reading import DatasetReader

_DAY = dt.timedelta(days=1)


class BarWindows(DatasetReader):
    def _missing(self, dataset: str, code: str, start: dt.date, end: dt.date, market: str) -> tuple[dt.date, ...]:
        """The first and last day of start..end that upstream has not answered for, for this code or in a
        whole-market load (none: all held)."""
        first = last = None
        day = start
        while day <= end:
            if not (self._covered(dataset, code, day, market) or self._covered(dataset, ALL, day, market)):
                first = first or day
                last = day
            day += _DAY
        return (first, last) if first is not None and last is not None else ()

    def _held(self, dataset: str, code: str, start: dt.date, end: dt.date, market: str) -> bool:
        return not self._missing(dataset, code, start, end, market)

    async def ensure(
        self, code: str, market: str, since: dt.date, start: dt.date, end: dt.date, attempts: Attempts,
        request_id: str | None,
    ) -> None:  # fmt: skip
        """Bars of since..end and factors of since..the latest final day, in the store (`since`: the
        first day a reader needs, before the window for a moving average); refuses a window
        start..end upstream has no bar in (InvalidArgument on `start`)."""
        await self._window("daily", code, market, since, end, attempts, request_id)
        bars = self._store.read(
            ("norm_daily",), "SELECT count(*) FROM norm_daily WHERE ts_code = ? AND trade_date BETWEEN ? AND ?",
            (code, start, end), scope=code,
        )[0][0]  # fmt: skip
        if not bars:
            raise InvalidArgument(
                "start",
                f"no provider has a daily bar of {code} in {start.isoformat()}..{end.isoformat()} (not listed yet,"
                " suspended, or no trading day in the window)",
                "ask for a window with trading days in it, after the code's listing date (see `lookup`)",
            )
        latest = await self._calendar.latest_final_day() if market == "cn" else end
        await self._window("adj_factor", code, market, since, max(end, latest), attempts, request_id)

    async def _window(
        self, dataset: str, code: str, market: str, since: dt.date, through: dt.date, attempts: Attempts,
        request_id: str | None,
    ) -> None:  # fmt: skip
        missing = self._missing(dataset, code, since, through, market)
        if not missing:
            attempts.add("warehouse", dataset, "hit")
            return
        query = Query(dataset, code, market, missing[0], missing[1])
        await self._ensure(attempts, query, functools.partial(self._held, dataset, code, since, through, market),
                           request_id)  # fmt: skip
