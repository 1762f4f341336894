"""Valuation (`daily_basic`) and financial indicators (`fina_indicator`) for `fundamentals`.

Valuation rows follow the daily-bar freshness rules. Report indicators can be restated on
any day, so a fetch of them is trusted for a day, then asked again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Generic, TypeVar

from citation.attempts import Attempts
from providers.contract import Query
from providers.models import INDICATOR_FIELDS, VALUATION_FIELDS, FinancialIndicators, Valuation
from providers.symbols import InvalidArgument
from warehouse.reading import DatasetReader
from warehouse.store import utc_aware

_REPORT_TTL = dt.timedelta(hours=24)
_REPORT_WINDOW = dt.timedelta(days=550)
# The newest row on or before the date, one per source (the reader picks by the composer's order).
_VALUATION_SQL = (
    f"SELECT source, ts_code, trade_date, close, {', '.join(VALUATION_FIELDS)}, fetched_at FROM norm_daily_basic"
    " WHERE ts_code = $1 AND trade_date = (SELECT max(trade_date) FROM norm_daily_basic"
    " WHERE ts_code = $1 AND trade_date <= $2)"
)
_INDICATOR_SQL = (
    f"SELECT source, ts_code, ann_date, end_date, {', '.join(INDICATOR_FIELDS)}, fetched_at FROM norm_fina_indicator"
    " WHERE ts_code = $1 AND end_date = (SELECT max(end_date) FROM norm_fina_indicator"
    " WHERE ts_code = $1 AND end_date <= $2)"
)


T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    value: T
    fetched_at: dt.datetime
    source: str


class FundamentalsService(DatasetReader):
    def _preferred(self, dataset: str, rows: list[tuple[object, ...]]) -> tuple[object, ...] | None:
        """The row (source first) of the source the composer would ask first."""
        return min(rows, key=lambda r: self._rank(dataset, "cn", str(r[0])), default=None)

    def _valuation(self, code: str, day: dt.date) -> Dated[Valuation] | None:
        row = self._preferred("daily_basic", self._store.read(("norm_daily_basic",), _VALUATION_SQL, (code, day)))
        if row is None:
            return None
        source, *values, fetched = row
        return Dated(Valuation(*values), utc_aware(fetched), str(source))  # type: ignore[arg-type]

    def _indicators(self, code: str, period: dt.date) -> Dated[FinancialIndicators] | None:
        rows = self._store.read(("norm_fina_indicator",), _INDICATOR_SQL, (code, period))
        row = self._preferred("fina_indicator", rows)
        if row is None:
            return None
        source, *values, fetched = row
        return Dated(FinancialIndicators(*values), utc_aware(fetched), str(source))  # type: ignore[arg-type]

    def _valuation_fresh(self, code: str, day: dt.date) -> bool:
        found = self._valuation(code, day)
        on_day = found is not None and found.value.trade_date == day
        return self._day_fresh("daily_basic", code, day, found.fetched_at if found and on_day else None)

    def _reports_fresh(self, code: str, start: dt.date, through: dt.date) -> bool:
        for day in (start, through):
            fetched = self._store.covered_at("fina_indicator", code, day)
            if fetched is None or self._clock.now() - fetched >= _REPORT_TTL:
                return False
        return True

    async def valuation(
        self, code: str, day: dt.date | None, attempts: Attempts, request_id: str | None
    ) -> Dated[Valuation]:
        """The valuation on `day`, or on the latest trading day that has one."""
        target = day or await self._calendar.latest_final_day()
        await self._ensure_window(
            attempts, "daily_basic", code, "cn", target, lambda: self._valuation_fresh(code, target), request_id
        )
        start = target - self._lookback
        found = self._valuation(code, target)
        if found is None or found.value.trade_date < start:
            raise InvalidArgument(
                "code" if day is None else "trade_date",
                f"no provider has a valuation row for {code} in the {self._lookback.days} days to {target}",
                "check the code, or pass a trade_date on which it traded",
            )
        if day is not None and found.value.trade_date != day:
            raise InvalidArgument(
                "trade_date",
                f"{day} has no valuation row for {code} (holiday or suspension); "
                f"the nearest earlier one is {found.value.trade_date}",
                f"ask for trade_date {found.value.trade_date}",
            )
        return found

    async def indicators(
        self, code: str, period: dt.date | None, attempts: Attempts, request_id: str | None
    ) -> Dated[FinancialIndicators]:
        """The report for `period` (a quarter end), or the latest report announced."""
        today = self._clock.today()
        start = (period or today) - (dt.timedelta(days=0) if period else _REPORT_WINDOW)
        await self._ensure(
            attempts, Query("fina_indicator", code, "cn", start, today),
            lambda: self._reports_fresh(code, start, today), request_id,
        )  # fmt: skip
        found = self._indicators(code, period or today)
        if found is None or (period is not None and found.value.end_date != period):
            what = f"the {period} report" if period else "any report announced since " + start.isoformat()
            raise InvalidArgument(
                "period",
                f"no provider has financial indicators for {code}: {what} is not published",
                "pass a published report period (a quarter end such as 20240630), or omit it for the latest",
            )
        return found
