"""Daily quotes for `price`: read the store, fetch what is missing or stale, answer from the store.

Freshness follows the calendar: a bar fetched after its day's final time never expires; a bar
of today fetched earlier expires at the close, then at the final time. A day that upstream
was asked about after it became final and had no bar is a known gap (holiday, suspension).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from providers.errors import ProviderError
from providers.models import DailyBar
from providers.symbols import InvalidArgument, tushare_date
from providers.tushare import adj_factor, daily
from providers.tushare.client import NAME as TUSHARE
from warehouse.reading import Attempts, DatasetReader
from warehouse.store import Coverage, utc_aware

_BAR_SQL = (
    "SELECT ts_code, trade_date, open, high, low, close, pre_close, vol, amount, fetched_at"
    " FROM norm_daily WHERE ts_code = ? AND trade_date = ? AND source = ?"
)


@dataclass(frozen=True)
class Quote:
    bar: DailyBar
    fetched_at: dt.datetime
    source: str
    adj_factor: float | None
    adj_factor_latest: float | None
    adj_factor_latest_date: dt.date | None
    market_state: str
    calendar_basis: str
    attempts: Attempts
    warnings: tuple[str, ...]


class QuoteService(DatasetReader):
    # -- store reads -------------------------------------------------------------------------
    def _bar(self, code: str, day: dt.date) -> tuple[DailyBar, dt.datetime] | None:
        rows = self._store.read(("norm_daily",), _BAR_SQL, (code, day, TUSHARE))
        if not rows:
            return None
        *values, fetched = rows[0]
        return DailyBar(*values), utc_aware(fetched)

    def _latest_bar_day(self, code: str, on_or_before: dt.date) -> dt.date | None:
        rows = self._store.read(
            ("norm_daily",),
            "SELECT max(trade_date) FROM norm_daily WHERE ts_code = ? AND trade_date <= ? AND source = ?",
            (code, on_or_before, TUSHARE),
        )
        return rows[0][0] if rows else None

    def _factors(self, code: str, day: dt.date) -> tuple[float | None, float | None, dt.date | None]:
        rows = self._store.read(
            ("norm_adj_factor",),
            "SELECT (SELECT adj_factor FROM norm_adj_factor WHERE ts_code = $1 AND trade_date = $2"
            " AND source = $3), f.adj_factor, f.trade_date FROM (SELECT 1) LEFT JOIN"
            " (SELECT adj_factor, trade_date FROM norm_adj_factor WHERE ts_code = $1 AND source = $3"
            " ORDER BY trade_date DESC LIMIT 1) f ON true",
            (code, day, TUSHARE),
        )
        return rows[0] if rows else (None, None, None)

    # -- freshness ---------------------------------------------------------------------------
    def _bar_fresh(self, code: str, day: dt.date) -> bool:
        found = self._bar(code, day)
        return self._day_fresh("daily", code, day, found[1] if found else None)

    def _factors_fresh(self, code: str, day: dt.date, latest: dt.date) -> bool:
        return self._final_coverage("adj_factor", code, day) and self._final_coverage("adj_factor", code, latest)

    def _fetch_latest(self, code: str, end: dt.date, request_id: str | None) -> None:
        """The newest bar on or before `end`, however far back (a long suspension)."""
        params = {"ts_code": code, "end_date": tushare_date(end), "limit": 1}
        raw = self._tushare.query(daily.API, params, request_id)
        rows = daily.translate_result(self._tushare.frame(raw))
        start = rows["trade_date"].min() if len(rows) else end
        self._store.load(daily.TABLE, rows, raw, Coverage("daily_latest", code, start, end))

    # -- the question ------------------------------------------------------------------------
    async def quote(self, code: str, day: dt.date | None, attempts: Attempts, request_id: str | None = None) -> Quote:
        if day is None:
            day = await self._latest_day_with_bar(code, attempts, request_id)
        else:
            await self._require_bar(code, day, attempts, request_id)
        found = self._bar(code, day)
        if found is None:  # _require_bar and _latest_day_with_bar guarantee a bar
            raise AssertionError(f"bar {code} {day} vanished from the store")
        bar, fetched_at = found
        is_open, basis = await self._calendar.is_open_or_weekday(day)
        warnings: list[str] = []
        latest_day = await self._calendar.latest_final_day()
        end = max(day, latest_day)
        try:
            await self._ensure(
                attempts, "adj_factor", ("adj_factor", code, day, end),
                lambda: self._factors_fresh(code, day, latest_day),
                lambda: self._fetch(adj_factor, code, day, end, request_id),
            )  # fmt: skip
        except ProviderError as exc:
            warnings.append(f"adjustment factors unavailable ({type(exc).__name__}: {exc}); qfq/hfq are null")
        factor, latest, latest_date = self._factors(code, day)
        return Quote(
            bar=bar,
            fetched_at=fetched_at,
            source=TUSHARE,
            adj_factor=factor,
            adj_factor_latest=latest if factor is not None else None,
            adj_factor_latest_date=latest_date if factor is not None else None,
            market_state=self._clock.state(day, is_open),
            calendar_basis=basis,
            attempts=attempts,
            warnings=tuple(warnings),
        )

    async def _require_bar(self, code: str, day: dt.date, attempts: Attempts, request_id: str | None) -> None:
        await self._ensure_window(attempts, daily, code, day, lambda: self._bar_fresh(code, day), request_id)
        if self._bar(code, day) is not None:
            return
        is_open, _ = await self._calendar.is_open_or_weekday(day)
        nearest = self._latest_bar_day(code, day - dt.timedelta(days=1))
        reason = "is not a trading day" if not is_open else "has no bar (suspended, or not yet listed)"
        if nearest is None:
            raise InvalidArgument(
                "trade_date",
                f"{day.isoformat()} {reason} for {code}, and there is no earlier bar in the "
                f"{self._lookback.days} days before it",
                "check the code, or ask without trade_date for the latest bar",
            )
        raise InvalidArgument(
            "trade_date",
            f"{day.isoformat()} {reason} for {code}; the nearest earlier bar is {nearest.isoformat()}",
            f"ask for trade_date {nearest.isoformat()}",
        )

    async def _latest_day_with_bar(self, code: str, attempts: Attempts, request_id: str | None) -> dt.date:
        today = self._clock.today()
        candidate = await self._calendar.latest_open_on_or_before(today)
        if candidate == today and self._clock.now() < self._clock.close_of(today):
            candidate = await self._calendar.latest_open_on_or_before(today - dt.timedelta(days=1))
        await self._ensure_window(
            attempts, daily, code, candidate, lambda: self._bar_fresh(code, candidate), request_id
        )
        latest = self._latest_bar_day(code, candidate)
        if latest is None:
            await self._ensure(
                attempts, "daily", ("daily_latest", code, candidate),
                lambda: self._latest_bar_day(code, candidate) is not None,
                lambda: self._fetch_latest(code, candidate, request_id),
            )  # fmt: skip
            latest = self._latest_bar_day(code, candidate)
        if latest is None:
            raise InvalidArgument(
                "code",
                f"tushare has no daily bar for {code} up to {candidate.isoformat()}",
                "check the code: it may be mistyped, not yet listed, or delisted",
            )
        return latest
