"""Sets of rows as known on a day: a dividend history, a top-10 holders list, an index's constituents.

A set is asked upstream and landed the way reports are (`warehouse.reports.ReportReader`: through the
composer, trusted for a day, then asked again) and read point in time by its declaration
(`warehouse.pointintime.latest_set` and `known_rows`): only rows known (announced, or dated) on or
before the day asked count. A set is looked for in a window first and then in a wider one, so that a
company months behind, or an index whose newest weights are a year old, still answers, with the
answer saying how old what it found is. One source answers a set: the first in the composer's order
that holds rows of it (rows of two sources are never mixed in one list).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from citation.attempts import Attempts
from providers.contract import Query
from providers.declaration import Dataset
from warehouse.pointintime import Found, Row, first_known, found_rows, known_rows, latest_set
from warehouse.reports import ReportReader

Read = Callable[[], list[Found]]


@dataclass(frozen=True)
class KnownSet:
    """The rows found (of one source), and where they were looked for: what an answer or a refusal says."""

    spec: Dataset
    scope: str
    rows: tuple[Row, ...]
    source: str | None
    fetched_at: dt.datetime | None  # when the newest of the rows was fetched (aware, UTC)
    looked_from: dt.date  # the first day of the widest window asked
    looked: int  # lookups logged when it was found: the cite of this part names those

    @property
    def date(self) -> dt.date | None:
        """The set's date (a report period, a weight date), where it has rows."""
        return self.rows[0][str(self.spec.date)] if self.rows and self.spec.date else None


class SetService(ReportReader):
    def _one_source(self, spec: Dataset, found: list[Found]) -> tuple[list[Found], str | None]:
        if not found:
            return [], None
        source = min({f.source for f in found}, key=lambda s: self._rank(spec.name, "cn", s))
        return [f for f in found if f.source == source], source

    async def _looked_up(
        self, spec: Dataset, scope: str, starts: Sequence[dt.date], through: dt.date, read: Read,
        attempts: Attempts, request_id: str | None,
    ) -> KnownSet:  # fmt: skip
        """Ask each window [start, through] in turn (fresh for a day) until `read` finds rows."""
        found: list[Found] = []
        start = starts[0]
        for start in starts:
            await self._ensure(
                attempts, Query(spec.name, scope, "cn", start, through),
                functools.partial(self._reports_fresh, spec.name, scope, start, through), request_id,
            )  # fmt: skip
            found = read()
            if found:
                break
        chosen, source = self._one_source(spec, found)
        fetched = max((f.fetched_at for f in chosen), default=None)
        return KnownSet(spec, scope, tuple(f.row for f in chosen), source, fetched, start, len(attempts.log))

    async def newest(
        self, spec: Dataset, scope: str, on: dt.date, attempts: Attempts, request_id: str | None, *,
        starts: Sequence[dt.date], through: dt.date, exact: dt.date | None = None,
    ) -> KnownSet:  # fmt: skip
        """The rows of the newest date known on `on` (of `exact`, when given), in their newest announcement."""
        read = functools.partial(latest_set, self._store, spec, scope, on, exact)
        return await self._looked_up(spec, scope, starts, through, read, attempts, request_id)

    async def history(
        self, spec: Dataset, scope: str, on: dt.date, attempts: Attempts, request_id: str | None, *,
        start: dt.date, through: dt.date,
    ) -> KnownSet:  # fmt: skip
        """Every row of the scope known on `on`, newest first (a dividend history)."""
        read = functools.partial(known_rows, self._store, spec, scope, on)
        return await self._looked_up(spec, scope, (start,), through, read, attempts, request_id)

    async def classification(
        self, spec: Dataset, version: str, codes: Sequence[str], attempts: Attempts, request_id: str | None,
        *, start: dt.date, through: dt.date,
    ) -> KnownSet:  # fmt: skip
        """The entries of a classification version (undated: the version is the scope) that are one of
        `codes` or whose parent's industry code is; `codes` are index codes (801120.SI)."""
        table, columns = spec.table, ", ".join(spec.columns)
        marks = ", ".join("?" for _ in codes)
        sql = (f"SELECT source, {columns}, fetched_at FROM {table} WHERE {spec.scope} = ? AND (index_code IN ({marks})"
               f" OR parent_code IN (SELECT industry_code FROM {table} WHERE {spec.scope} = ? AND index_code IN"
               f" ({marks}))) ORDER BY level, index_code")  # fmt: skip

        def read() -> list[Found]:
            return found_rows(spec, self._store.read((table,), sql, (version, *codes, version, *codes)))

        return await self._looked_up(spec, version, (start,), through, read, attempts, request_id)

    def first_known(self, spec: Dataset, scope: str, exact: dt.date) -> dt.date | None:
        """When a set of `exact` was first announced: why a day before it has none."""
        return first_known(self._store, spec, scope, exact)
