"""Valuation (`daily_basic`) and financial indicators (`fina_indicator`) for `fundamentals`.

Valuation rows follow the daily-bar freshness rules; report indicators are reports
(`warehouse.reports`). Both are point in time: a valuation of the day asked (or the newest before
it, with its age said), and the reports announced by then, never one published later. Either may
fail while the other answers: the answer then says in a warning what is missing and why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass

from citation.attempts import Attempts
from providers.contract import Query
from providers.errors import ProviderError
from providers.models import DATASETS, FinancialIndicators, Valuation
from providers.symbols import InvalidArgument
from warehouse.pointintime import Row, latest
from warehouse.reports import Dated, Part, ReportReader, period_kind, report_period

__all__ = ["Answered", "Dated", "FundamentalsService", "Part", "period_kind"]
VALUATION, INDICATORS = DATASETS["daily_basic"], DATASETS["fina_indicator"]


@dataclass(frozen=True)
class Answered:
    """What a question found, dataset by dataset (each row with its source), and what it could not."""

    parts: tuple[Part, ...]
    warnings: tuple[str, ...]


def _by_name(dated: Dated[Valuation] | Dated[FinancialIndicators]) -> Dated[Row]:
    return Dated(dataclasses.asdict(dated.value), dated.fetched_at, dated.source, dated.warnings)


class FundamentalsService(ReportReader):
    def _valuation(self, code: str, day: dt.date) -> Dated[Valuation] | None:
        found = self._preferred(VALUATION.name, latest(self._store, VALUATION, code, day))
        if found is None:
            return None
        return Dated(Valuation(**found.row), found.fetched_at, found.source)

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
        found = await self.report(INDICATORS, code, period, as_of, attempts, request_id)
        return Dated(FinancialIndicators(**found.value), found.fetched_at, found.source)

    async def answer(
        self, code: str, period: dt.date | None, day: dt.date | None, attempts: Attempts, request_id: str | None
    ) -> Answered:
        """Valuation on `day` and the report of `period` known then: whichever answers, with a warning
        for the other. A period asked for that was not published (by then) fails the question, since
        answering another period's figures would answer a different question."""
        report_period(period)
        warnings: list[str] = []
        parts: list[Part] = []
        failures: list[Exception] = []
        try:
            valuation = await self.valuation(code, day, attempts, request_id)
        except (ProviderError, InvalidArgument) as exc:  # the reports may still answer
            failures.append(exc)
            warnings.append(f"valuation unavailable ({type(exc).__name__}: {exc})")
        else:
            warnings.extend(valuation.warnings)
            parts.append(Part(VALUATION, _by_name(valuation), len(attempts.log)))
        try:
            reports = await self.indicators(code, period, day, attempts, request_id)
        except InvalidArgument as exc:
            if exc.argument == "period":  # the period asked for was not published (by then)
                raise
            failures.append(exc)
            warnings.append(f"financial indicators unavailable ({exc})")
        except ProviderError as exc:
            failures.append(exc)
            warnings.append(f"financial indicators unavailable ({type(exc).__name__}: {exc})")
        else:
            parts.append(Part(INDICATORS, _by_name(reports), len(attempts.log)))
        if not parts:
            raise next((f for f in failures if isinstance(f, ProviderError)), failures[0])
        return Answered(tuple(parts), tuple(warnings))
