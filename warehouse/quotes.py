"""Daily quotes for `price`: read the store, fetch what is missing or stale, answer from the store.

Freshness follows the calendar: a bar fetched after its day's final time never expires; a bar
of today fetched earlier expires at the close, then at the final time. A day that upstream
was asked about and had no bar is a known gap (holiday, suspension) for as long as that
answer holds. Global tickers follow `GlobalClock`.

The store may hold one row per source for a (code, day). The answer is the row of the most
preferred source (the composer's order) among fresh rows; the others are the cross-check.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import structlog

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import Query
from providers.errors import ProviderError
from providers.models import DATASETS, RELATIVE_FACTORS, DailyBar
from providers.symbols import InvalidArgument
from warehouse.calendar import TradingCalendar
from warehouse.curate import Curator
from warehouse.loader import SingleFlight
from warehouse.market_clock import MarketClock
from warehouse.merging import cell
from warehouse.pointintime import found_rows, select_list
from warehouse.quality import CROSS_CHECK_TOLERANCE_PCT, record_disagreement
from warehouse.reading import DatasetReader
from warehouse.store import Warehouse

log = structlog.get_logger("warehouse.quotes")
_DAILY = DATASETS["daily"]
_BARS_SQL = f"SELECT source, {select_list(_DAILY)}, fetched_at FROM norm_daily WHERE ts_code = ? AND trade_date = ?"
_FACTORS_SQL = (
    "SELECT d.source, d.adj_factor, l.latest, l.latest_date FROM norm_adj_factor d JOIN"
    " (SELECT source, arg_max(adj_factor, trade_date) AS latest, max(trade_date) AS latest_date"
    "  FROM norm_adj_factor WHERE ts_code = $1 GROUP BY source) l ON d.source = l.source"
    " WHERE d.ts_code = $1 AND d.trade_date = $2"
)
_CROSS_CHECK_WINDOW = dt.timedelta(days=7)
_ANY_FACTOR_SQL = "SELECT 1 FROM norm_adj_factor WHERE ts_code = ? LIMIT 1"


def _behind(code: str, day: dt.date, expected: dt.date) -> str:
    return (
        f"the newest bar any provider has for {code} is {day.isoformat()}, {(expected - day).days} days"
        f" before the latest trading day {expected.isoformat()} (suspended, or the source is behind)"
    )


@dataclass(frozen=True)
class Row:
    source: str
    bar: DailyBar
    fetched_at: dt.datetime


@dataclass(frozen=True)
class Quote:
    bar: DailyBar
    market: str
    fetched_at: dt.datetime
    source: str
    adj_factor: float | None
    adj_factor_latest: float | None
    adj_factor_latest_date: dt.date | None
    hfq_defined: bool
    market_state: str
    calendar_basis: str
    attempts: Attempts
    warnings: tuple[str, ...]
    cross_check: dict[str, Any] | None


class QuoteService(DatasetReader):
    def __init__(
        self, store: Warehouse, composer: Composer, calendar: TradingCalendar, flight: SingleFlight,
        clock: MarketClock, lookback_days: int, curator: Curator, *, cross_check: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """`cross_check` names the providers asked for a second opinion on each A-share close."""
        super().__init__(store, composer, calendar, flight, clock, lookback_days, curator)
        self.cross_check_sources = cross_check
        self._beside = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="cold-factors")
        self._newest_cold: dt.date | None = None  # the newest day of a bar a cold question has fetched

    # -- store reads -------------------------------------------------------------------------
    def _rows(self, code: str, day: dt.date, market: str) -> list[Row]:
        """Every source's bar of the day, the one to answer with first."""
        rows = [
            Row(found.source, DailyBar(**found.row), found.fetched_at)
            for found in found_rows(_DAILY, self._store.read(("norm_daily",), _BARS_SQL, (code, day), scope=code))
        ]
        return sorted(
            rows,
            key=lambda r: (not self._row_fresh(market, day, r.fetched_at), self._rank("daily", market, r.source)),
        )

    def _latest_bar_day(self, code: str, on_or_before: dt.date) -> dt.date | None:
        rows = self._store.read(
            ("norm_daily",), "SELECT max(trade_date) FROM norm_daily WHERE ts_code = ? AND trade_date <= ?",
            (code, on_or_before), scope=code,
        )  # fmt: skip
        return rows[0][0] if rows else None

    def _factors(self, code: str, day: dt.date, market: str, prefer: str) -> tuple[Any, ...] | None:
        """(source, factor, latest factor, its date) from one source: the bar's own if it has one."""
        rows = self._store.read(("norm_adj_factor",), _FACTORS_SQL, (code, day), scope=code)
        if not rows:
            return None
        return min(rows, key=lambda r: (r[0] != prefer, self._rank("adj_factor", market, r[0])))

    def _why_no_factor(self, code: str, day: dt.date) -> str:
        """Why close_qfq/close_hfq are null although the factors were fetched: where they start or end."""
        rows = self._store.read(
            ("norm_adj_factor",),
            "SELECT source, min(trade_date), max(trade_date) FROM norm_adj_factor WHERE ts_code = ? GROUP BY source",
            (code,), scope=code,
        )  # fmt: skip
        if not rows:
            return f"no provider has adjustment factors for {code}; close_qfq and close_hfq are null"
        spans = "; ".join(f"{source}'s run {first.isoformat()}..{last.isoformat()}" for source, first, last in rows)
        return f"no adjustment factor for {code} on {day.isoformat()} ({spans}); close_qfq and close_hfq are null"

    # -- freshness ---------------------------------------------------------------------------
    def _bar_fresh(self, code: str, day: dt.date, market: str) -> bool:
        rows = self._rows(code, day, market)
        return self._day_fresh("daily", code, day, rows[0].fetched_at if rows else None, market)

    def _factors_fresh(self, code: str, day: dt.date, latest: dt.date, market: str) -> bool:
        return self._covered("adj_factor", code, day, market) and self._covered("adj_factor", code, latest, market)

    # -- the question ------------------------------------------------------------------------
    async def quote(
        self, code: str, market: str, day: dt.date | None, attempts: Attempts, request_id: str | None = None
    ) -> Quote:
        warnings: list[str] = []
        factors_failed: ProviderError | None = None
        if day is None:
            candidate = await self._latest_candidate(market)
            cold = await self._answer_cold(code, market, candidate, attempts, request_id)
            if isinstance(cold, Quote):
                return cold
            factors_failed = cold
            day, expected = await self._latest_day_with_bar(code, market, candidate, attempts, request_id)
            if day < expected:
                warnings.append(_behind(code, day, expected))
        else:
            await self._require_bar(code, market, day, attempts, request_id)
        rows = self._rows(code, day, market)
        if not rows:  # _require_bar and _latest_day_with_bar guarantee a bar
            raise AssertionError(f"bar {code} {day} vanished from the store")
        if market == "cn":
            is_open, basis = await self._calendar.is_open_or_weekday(day)
            latest_day = await self._calendar.latest_final_day()
        else:
            is_open, basis, latest_day = True, self._clocks[market].BASIS, self._clocks[market].today()  # type: ignore[union-attr]
        rows = await self._cross_check(code, market, day, rows, attempts, warnings, request_id)
        primary = rows[0]
        end = max(day, latest_day)
        try:
            if factors_failed is not None:
                raise factors_failed
            await self._ensure(
                attempts, Query("adj_factor", code, market, day, end),
                lambda: self._factors_fresh(code, day, latest_day, market), request_id,
                key=("adj_factor", code, day, end),
            )  # fmt: skip
        except ProviderError as exc:
            warnings.append(f"adjustment factors unavailable ({type(exc).__name__}: {exc}); qfq/hfq are null")
        found = self._factors(code, day, market, primary.source)
        if found is None and market == "cn" and not any("factors unavailable" in w for w in warnings):
            warnings.append(self._why_no_factor(code, day))
        source, factor, latest, latest_date = found if found else (None, None, None, None)
        cross_check = self._compare(rows, warnings)
        if source in RELATIVE_FACTORS:
            warnings.append(f"{source} factors are relative to its latest bar, so close_hfq is not defined")
        return Quote(
            bar=primary.bar,
            market=market,
            fetched_at=primary.fetched_at,
            source=primary.source,
            adj_factor=factor,
            adj_factor_latest=latest,
            adj_factor_latest_date=latest_date,
            hfq_defined=source is not None and source not in RELATIVE_FACTORS,
            market_state=self._clocks[market].state(day, is_open),
            calendar_basis=basis,
            attempts=attempts,
            warnings=tuple(warnings),
            cross_check=cross_check,
        )

    # -- a code never asked before -----------------------------------------------------------
    async def _answer_cold(
        self, code: str, market: str, candidate: dt.date, attempts: Attempts, request_id: str | None
    ) -> Quote | ProviderError | None:
        """The newest bar of a code the store holds nothing of, answered from what upstream said.

        Its bar and factors are fetched as `quote` would, and land after the answer (readers of the
        code wait for them meanwhile), so the writer is not on the question's path. With nothing
        stored, the store would answer exactly these rows. Anything less plain (a cross-check, no
        bar, factors from elsewhere) lands first and `quote` answers from the store: None, or the
        factors' failure for `quote` to report.
        """
        if market != "cn" or self.cross_check_sources or self._latest_bar_day(code, candidate) is not None:
            return None
        latest_day = await self._calendar.latest_final_day()
        found: dict[str, Any] = {}

        def fetch() -> tuple[ProviderError | None, concurrent.futures.Future[None]]:
            stored_factors = self._store.read(("norm_adj_factor",), _ANY_FACTOR_SQL, (code,), scope=code)
            # The factors are fetched beside the bar, from the newest day a cold bar has had so far: the
            # bar is of that day or later unless the code is suspended (or this is the first question,
            # when nothing is known yet); then the guess is dropped, unlanded, and the bar's day asked.
            since = min(candidate, self._newest_cold) if self._newest_cold is not None else None
            guess_log = Attempts()
            guess = None if stored_factors or since is None else self._beside.submit(
                self._prepare, Query("adj_factor", code, market, since, max(candidate, latest_day)), guess_log,
                request_id,
            )  # fmt: skip
            bars, landed = self._prepare(Query("daily", code, market, candidate, candidate, latest=True), attempts,
                                         request_id)  # fmt: skip
            landings = [landed]
            bar_rows: list[dict[Hashable, Any]] = bars.rows.to_dict("records")
            if not bar_rows or stored_factors:
                return None, self._store.write_behind(landings)
            bar = max(bar_rows, key=lambda r: r["trade_date"])
            day = bar["trade_date"]
            self._newest_cold = max(day, self._newest_cold or day)
            try:
                if guess is not None and since is not None and day >= since:
                    try:
                        factors, landed = guess.result()
                    finally:
                        attempts.merge(guess_log)
                else:
                    factors, landed = self._prepare(
                        Query("adj_factor", code, market, day, max(day, latest_day)), attempts, request_id
                    )  # fmt: skip
            except ProviderError as exc:
                return exc, self._store.write_behind(landings)
            landings.append(landed)
            factor_rows = [r for r in factors.rows.to_dict("records") if r["trade_date"] >= day]
            mine = [r["adj_factor"] for r in factor_rows if r["trade_date"] == day]
            plain = factors.raw.source == bars.raw.source and factors.raw.source not in RELATIVE_FACTORS
            if not plain or not mine or any(cell(r["adj_factor"]) is None for r in factor_rows):
                return None, self._store.write_behind(landings)
            newest = max(factor_rows, key=lambda r: r["trade_date"])
            found.update(bar=bar, source=bars.raw.source, fetched_at=bars.raw.fetched_at, factor=float(mine[0]),
                         latest=cell(newest["adj_factor"]), latest_date=newest["trade_date"])  # fmt: skip
            return None, self._store.write_behind(landings)

        failed = await self._flight.answer_then_land(
            "daily", ("daily_latest", code, candidate), self._newest_known(code, candidate, market), fetch
        )
        if not found:
            return failed
        day = found["bar"]["trade_date"]
        is_open, basis = await self._calendar.is_open_or_weekday(day)
        warnings = [_behind(code, day, candidate)] if day < candidate else []
        return Quote(
            bar=DailyBar(**{name: cell(found["bar"][name]) for name in DailyBar.__dataclass_fields__}),
            market=market, fetched_at=found["fetched_at"], source=found["source"], adj_factor=found["factor"],
            adj_factor_latest=found["latest"], adj_factor_latest_date=found["latest_date"], hfq_defined=True,
            market_state=self._clocks[market].state(day, is_open), calendar_basis=basis, attempts=attempts,
            warnings=tuple(warnings), cross_check=None,
        )  # fmt: skip

    async def _cross_check(
        self, code: str, market: str, day: dt.date, rows: list[Row], attempts: Attempts, warnings: list[str],
        request_id: str | None,
    ) -> list[Row]:  # fmt: skip
        """Fetch the day from each configured cross-check source that has not answered it yet."""
        if not self.cross_check_sources:
            return rows
        for source in self.cross_check_sources:
            if any(r.source == source for r in rows) or source == rows[0].source:
                continue
            if not self._composer.can(source, "daily", market):
                continue
            query = Query("daily", code, market, day - _CROSS_CHECK_WINDOW, day)
            try:
                await self._ensure(
                    attempts, query, self._answered_by(source, code, day, market), request_id,
                    key=("cross_check", source, code, day), only=source,
                )  # fmt: skip
            except ProviderError as exc:
                warnings.append(f"cross-check with {source} failed ({type(exc).__name__}: {exc})")
        return self._rows(code, day, market)

    def _answered_by(self, source: str, code: str, day: dt.date, market: str) -> Callable[[], bool]:
        def fresh() -> bool:
            has_row = any(r.source == source for r in self._rows(code, day, market))
            return has_row or self._covered(f"daily@{source}", code, day, market)

        return fresh

    def _compare(self, rows: list[Row], warnings: list[str]) -> dict[str, Any] | None:
        """The primary's close against every other source's; a disagreement goes to the quality log."""
        if len(rows) < 2:
            return None
        primary = rows[0]
        values = {r.source: r.bar.close for r in rows}
        diff_pct = max(abs(r.bar.close - primary.bar.close) / primary.bar.close * 100 for r in rows[1:])
        agreement = diff_pct <= CROSS_CHECK_TOLERANCE_PCT
        if not agreement:
            message = f"sources disagree on the close of {primary.bar.ts_code} {primary.bar.trade_date}: {values}"
            warnings.append(message + f"; serving {primary.source}'s")
            if record_disagreement(self._store, primary.bar.ts_code, primary.bar.trade_date, values, diff_pct):
                log.warning("cross_check_disagreement", values=values, diff_pct=round(diff_pct, 6))
        return {"values": values, "diff_pct": round(diff_pct, 6), "agreement": agreement, "field": "close"}

    async def _require_bar(
        self, code: str, market: str, day: dt.date, attempts: Attempts, request_id: str | None
    ) -> None:
        await self._ensure_window(
            attempts, "daily", code, market, day, lambda: self._bar_fresh(code, day, market), request_id
        )
        if self._rows(code, day, market):
            return
        if market == "cn":
            is_open, _ = await self._calendar.is_open_or_weekday(day)
        else:
            is_open = day.weekday() < 5
        nearest = self._latest_bar_day(code, day - dt.timedelta(days=1))
        reason = "is not a trading day" if not is_open else "has no bar (suspended, a holiday, or not yet listed)"
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

    async def _latest_candidate(self, market: str) -> dt.date:
        """The latest trading day that could have a bar by now (today's only once it has closed)."""
        today = self._clocks[market].today()
        if market != "cn":
            return today
        candidate = await self._calendar.latest_open_on_or_before(today)
        if candidate == today and self._clock.now() < self._clock.close_of(today):
            candidate = await self._calendar.latest_open_on_or_before(today - dt.timedelta(days=1))
        return candidate

    def _newest_known(self, code: str, candidate: dt.date, market: str) -> Callable[[], bool]:
        def fresh() -> bool:
            rows = self._rows(code, candidate, market)
            return self._day_fresh("daily_latest", code, candidate, rows[0].fetched_at if rows else None, market)

        return fresh

    async def _latest_day_with_bar(
        self, code: str, market: str, candidate: dt.date, attempts: Attempts, request_id: str | None
    ) -> tuple[dt.date, dt.date]:
        """(the newest bar upstream has, the latest trading day that could have one).

        A fresh stored bar of that day answers at once. Otherwise upstream is asked for its newest
        bar on or before it, however old (one request, as a long suspension or an upstream months
        behind has no bar in any window): an older bar we happen to have stored is never taken for
        the latest, and no window of bars is fetched that the question did not ask for.
        """
        query = Query("daily", code, market, candidate, candidate, latest=True)
        fresh = self._newest_known(code, candidate, market)
        await self._ensure(attempts, query, fresh, request_id, key=("daily_latest", code, candidate))
        latest = self._latest_bar_day(code, candidate)
        if latest is None:
            raise InvalidArgument(
                "code",
                f"no provider has a daily bar for {code} up to {candidate.isoformat()}",
                "check the code: it may be mistyped, not yet listed, or delisted",
            )
        return latest, candidate
