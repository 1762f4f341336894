"""Valuation (`daily_basic`) and financial indicators (`fina_indicator`) for `fundamentals`.

Valuation rows follow the daily-bar freshness rules. Report indicators can be restated on
any day, so a fetch of them is trusted for a day, then asked again. Both are point in time:
a valuation of the day asked (or the newest before it, with its age said), and the reports
announced by then, never one published later.
"""

from __future__ import annotations

import datetime as dt
import functools
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
# Point in time: of the reports announced on or before $2, the newest period (or exactly $3), in
# its newest announced version; one row per source. A report without an announcement date is
# never known to have been public, so it never answers.
_INDICATOR_SQL = (
    f"SELECT source, ts_code, ann_date, end_date, {', '.join(INDICATOR_FIELDS)}, fetched_at FROM norm_fina_indicator"
    " WHERE ts_code = $1 AND ann_date <= $2 AND end_date = (SELECT max(end_date) FROM norm_fina_indicator"
    " WHERE ts_code = $1 AND ann_date <= $2 AND ($3::DATE IS NULL OR end_date = $3))"
    " QUALIFY ann_date = max(ann_date) OVER (PARTITION BY source)"
)
_ANNOUNCED_SQL = "SELECT min(ann_date) FROM norm_fina_indicator WHERE ts_code = ? AND end_date = ?"
_PERIOD_KINDS = {3: "Q1", 6: "H1", 9: "Q3", 12: "annual"}  # tushare's reports are cumulative from January


def period_kind(end_date: dt.date) -> str:
    """Q1, H1, Q3 (nine months, cumulative) or annual: what a report period's figures cover."""
    return _PERIOD_KINDS[end_date.month]


T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    value: T
    fetched_at: dt.datetime
    source: str
    warnings: tuple[str, ...] = ()


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

    def _indicators(self, code: str, as_of: dt.date, period: dt.date | None) -> Dated[FinancialIndicators] | None:
        rows = self._store.read(("norm_fina_indicator",), _INDICATOR_SQL, (code, as_of, period))
        row = self._preferred("fina_indicator", rows)
        if row is None:
            return None
        source, *values, fetched = row
        return Dated(FinancialIndicators(*values), utc_aware(fetched), str(source))  # type: ignore[arg-type]

    def _valuation_fresh(self, code: str, day: dt.date) -> bool:
        found = self._valuation(code, day)
        on_day = found is not None and found.value.trade_date == day
        return self._day_fresh("daily_basic", code, day, found.fetched_at if found and on_day else None)

    def _newest_valuation_known(self, code: str, day: dt.date) -> bool:
        """A row in the lookback window, or upstream asked for its newest row on or before `day`."""
        found = self._valuation(code, day)
        if found is not None and found.value.trade_date >= day - self._lookback:
            return True
        return self._covered("daily_basic_latest", code, day)

    def _reports_fresh(self, code: str, start: dt.date, through: dt.date) -> bool:
        for day in (start, through):
            fetched = self._store.covered_at("fina_indicator", code, day)
            if fetched is None or self._clock.now() - fetched >= _REPORT_TTL:
                return False
        return True

    async def valuation(
        self, code: str, day: dt.date | None, attempts: Attempts, request_id: str | None
    ) -> Dated[Valuation]:
        """The newest valuation on or before `day` (default: the latest trading day), however old;
        when it is not of that day, a warning says how old it is."""
        target = day or await self._calendar.latest_final_day()
        await self._ensure_window(
            attempts, "daily_basic", code, "cn", target, lambda: self._valuation_fresh(code, target), request_id
        )
        if not self._newest_valuation_known(code, target):
            query = Query("daily_basic", code, "cn", target, target, latest=True)
            known = functools.partial(self._newest_valuation_known, code, target)
            await self._ensure(attempts, query, known, request_id, key=("daily_basic_latest", code, target))
        found = self._valuation(code, target)
        if found is None:
            raise InvalidArgument(
                "code" if day is None else "trade_date",
                f"no provider has a valuation row for {code} on or before {target}",
                "check the code" if day is None else "ask for a later trade_date, or omit it for the latest",
            )
        when = found.value.trade_date
        if when == target:
            return found
        age = (target - when).days
        warning = (f"the newest valuation on or before {target} is of {when}, {age} days earlier"
                   " (not a trading day, a suspension, or the source is behind)")  # fmt: skip
        return Dated(found.value, found.fetched_at, found.source, (warning,))

    async def indicators(
        self, code: str, period: dt.date | None, as_of: dt.date | None, attempts: Attempts, request_id: str | None
    ) -> Dated[FinancialIndicators]:
        """The report of `period` (a quarter end), or the newest period, as known on `as_of` (default
        today): only reports announced (`ann_date`) on or before it count."""
        today = self._clock.today()
        known_on = as_of or today
        start = period or (known_on - _REPORT_WINDOW)
        await self._ensure(
            attempts, Query("fina_indicator", code, "cn", start, today),
            lambda: self._reports_fresh(code, start, today), request_id,
        )  # fmt: skip
        found = self._indicators(code, known_on, period)
        if found is not None:
            return found
        if period is None:
            raise InvalidArgument(
                "code",
                f"no provider has a report of {code} announced between {start} and {known_on}",
                "check the code, or pass a period (a quarter end such as 20240630)",
            )
        announced = self._store.read(("norm_fina_indicator",), _ANNOUNCED_SQL, (code, period))[0][0]
        if announced is not None:
            raise InvalidArgument(
                "period",
                f"the {period} report of {code} was announced on {announced}, after {known_on}: it was not known then",
                "ask for an earlier period, or a trade_date on or after its announcement",
            )
        raise InvalidArgument(
            "period",
            f"no provider has financial indicators for {code}: the {period} report is not published",
            "pass a published report period (a quarter end such as 20240630), or omit it for the latest",
        )
