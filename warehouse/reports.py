"""Reports as known on a day, for every dataset declared with an announcement date (`ann_date`).

Reports can be restated on any day, so a fetch of them is trusted for a day, then asked again.
A question names a period (a quarter end) or asks for the newest; either way only the reports
announced on or before the day asked count (`warehouse.pointintime.latest`). When none does, the
error says which: a period announced after the day (with its announcement date), a period never
published, or no report at all; each is the caller's to fix, so PARAMETER. The newest report is looked
for in the last 550 days first, then in all the source has (a company months behind still answers).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Generic, TypeVar

from citation.attempts import Attempts
from providers.contract import Query
from providers.declaration import Dataset
from providers.symbols import FIRST_TRADING_DAY, InvalidArgument
from warehouse.pointintime import Found, Row, first_known, latest
from warehouse.reading import DatasetReader

_REPORT_TTL = dt.timedelta(hours=24)
_REPORT_WINDOW = dt.timedelta(days=550)
_PERIOD_KINDS = {3: "Q1", 6: "H1", 9: "Q3", 12: "annual"}  # tushare's reports are cumulative from January
_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))

T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    value: T
    fetched_at: dt.datetime
    source: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One dataset's row in an answer; `looked` is how many lookups were logged when it was found,
    so that its cite names the lookups that led to it and not those made for the next part."""

    dataset: Dataset
    found: Dated[Row]
    looked: int


def period_kind(end_date: dt.date) -> str:
    """Q1, H1, Q3 (nine months, cumulative) or annual: what a report period's figures cover."""
    return _PERIOD_KINDS[end_date.month]


def _due(end: dt.date) -> dt.date:
    """When a report of the period must be out (CSRC): the annual by April 30, H1 by August 31, Q1 and
    Q3 within a month of the quarter."""
    if end.month == 12:
        return dt.date(end.year + 1, 4, 30)
    return {3: dt.date(end.year, 4, 30), 6: dt.date(end.year, 8, 31), 9: dt.date(end.year, 10, 31)}[end.month]


def newest_due(on: dt.date) -> dt.date:
    """The newest period whose report was due on or before `on`."""
    ends = [dt.date(year, month, day) for year in (on.year - 2, on.year - 1, on.year) for month, day in _QUARTER_ENDS]
    return max(end for end in ends if _due(end) <= on)


def overdue(spec: Dataset, end: dt.date, on: dt.date) -> str | None:
    """A warning when a newer report than `end` was due by `on`: the newest known is then old."""
    due_end = newest_due(on)
    if end >= due_end:
        return None
    late = (on - _due(due_end)).days
    return (
        f"the newest {spec.title} announced by {on} are of {end} ({period_kind(end)}); the {due_end}"
        f" ({period_kind(due_end)}) report was due by {_due(due_end)}, {late} days earlier: the source is"
        " behind, or the company has not reported"
    )


def report_period(end: dt.date | None) -> dt.date | None:
    """A `period` argument, checked before anything is asked upstream: reports end on quarter ends."""
    if end is not None and (end.month, end.day) not in _QUARTER_ENDS:
        raise InvalidArgument("period", f"period {end} is not a quarter end", "use 0331, 0630, 0930 or 1231 of a year")
    return end


class ReportReader(DatasetReader):
    def _preferred(self, dataset: str, found: list[Found]) -> Found | None:
        """The row of the source the composer would ask first."""
        return min(found, key=lambda f: self._rank(dataset, "cn", f.source), default=None)

    def _reports_fresh(self, dataset: str, code: str, start: dt.date, through: dt.date) -> bool:
        for day in (start, through):
            fetched = self._store.covered_at(dataset, code, day)
            if fetched is None or self._clock.now() - fetched >= _REPORT_TTL:
                return False
        return True

    async def report(
        self, spec: Dataset, code: str, period: dt.date | None, as_of: dt.date | None, attempts: Attempts,
        request_id: str | None, *, date_argument: str = "trade_date", warn_overdue: bool = False,
    ) -> Dated[Row]:  # fmt: skip
        """The report of `period` (a quarter end), or the newest period, as known on `as_of` (default
        today): only reports announced on or before it count. `date_argument` is what the caller's
        tool calls `as_of`, for the remedy; `warn_overdue` says when the newest period found is older
        than the newest one due by then."""
        today = self._clock.today()
        known_on = as_of or today
        # A named period is asked from its end; the newest from the window, then (nothing there) from
        # everything the source has: "latest" is its newest, however old.
        starts = (period,) if period else (known_on - _REPORT_WINDOW, FIRST_TRADING_DAY)
        for start in starts:
            await self._ensure(
                attempts, Query(spec.name, code, "cn", start, today),
                functools.partial(self._reports_fresh, spec.name, code, start, today), request_id,
            )  # fmt: skip
            found = self._preferred(spec.name, latest(self._store, spec, code, known_on, period))
            if found is not None:
                break
        if found is not None:
            late = overdue(spec, found.row[str(spec.date)], known_on) if warn_overdue and period is None else None
            return Dated(found.row, found.fetched_at, found.source, (late,) if late else ())
        if period is None:
            raise InvalidArgument(
                "code",
                f"no provider has a report of {code} announced between {start} and {known_on}",
                "check the code, or pass a period (a quarter end such as 20240630)",
            )
        announced = first_known(self._store, spec, code, period)
        if announced is not None:
            raise InvalidArgument(
                "period",
                f"the {period} report of {code} was announced on {announced}, after {known_on}: it was not known then",
                f"ask for an earlier period, or a {date_argument} on or after its announcement",
            )
        raise InvalidArgument(
            "period",
            f"no provider has {spec.title} for {code}: the {period} report is not published",
            "pass a published report period (a quarter end such as 20240630), or omit it for the latest",
        )
