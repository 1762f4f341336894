"""The names a code is known by, for `lookup`: every table of names, whole, fresh within a day.

A listing is one whole-market request (tushare `stock_basic`: about 5,500 rows), so it is
fetched whole through the composer and kept in the warehouse like any dataset; the ingestion
job refreshes it daily too (`Ingestor._ensure_listing`, same 20 hours). When the refresh fails,
the names already stored still answer, with a warning saying how old they are: a listing changes
by a few codes a week, and a lookup that fails because upstream is down helps nobody. Only the
stock names are needed: without index or fund names (no source, no points) a lookup answers the
stocks, and a warning says which names were not searched.

Each table of names (stocks, indexes, funds) is one `NameTable` in `NAME_TABLES`: a declared
dataset that a provider can fetch whole (code "*").
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from citation.attempts import Attempts
from providers.contract import ALL, Query
from providers.errors import ProviderError
from providers.models import DATASETS
from warehouse.reading import DatasetReader
from warehouse.store import utc_aware

LISTING_TTL = dt.timedelta(hours=20)  # the ingestion job refreshes the stock list by it too


@dataclass(frozen=True)
class NameTable:
    """A declared dataset of names: which of its columns say what a match shows."""

    dataset: str
    kind: str  # what its codes are: stock, index, fund
    spell: str | None = None  # pinyin initials of the name, where the source gives them
    board: str | None = None  # market / board (主板, 创业板 ...)
    industry: str | None = None
    list_date: str | None = None


NAME_TABLES = (
    NameTable("stock_basic", "stock", spell="cnspell", board="market", industry="industry", list_date="list_date"),
    NameTable("index_basic", "index", board="market", industry="category", list_date="list_date"),
    NameTable("fund_basic", "fund", industry="fund_type", list_date="list_date"),
)


@dataclass(frozen=True, slots=True)
class Named:
    ts_code: str
    name: str
    kind: str
    spell: str | None
    board: str | None
    industry: str | None
    list_date: dt.date | None


@dataclass(frozen=True)
class Names:
    entries: tuple[Named, ...]
    sources: tuple[str, ...]
    fetched_at: dt.datetime  # the oldest table's fetch (aware, UTC)
    warnings: tuple[str, ...]


def _column(name: str | None) -> str:
    return name if name is not None else "NULL"


class Listing(DatasetReader):
    """`names()` fetches what is missing or older than LISTING_TTL, then reads every table."""

    def __init__(self, *parts: Any) -> None:
        super().__init__(*parts)
        # The entries of each table as of its newest fetch: 5,500 names are read once a day, not per lookup.
        self._memo: dict[str, tuple[dt.datetime | None, list[tuple[Named, str]]]] = {}

    def _fetched_at(self, dataset: str) -> dt.datetime | None:
        rows = self._store.read(
            ("fetch_log",),
            "SELECT max(fetched_at) FROM fetch_log WHERE dataset = ? AND scope = ? AND row_count > 0",
            (dataset, ALL),
        )
        return utc_aware(rows[0][0]) if rows and rows[0][0] is not None else None

    def _fresh(self, dataset: str) -> bool:
        fetched = self._fetched_at(dataset)
        return fetched is not None and self._clock.now() - fetched < LISTING_TTL

    async def names(self, attempts: Attempts, request_id: str | None) -> Names:
        entries: list[Named] = []
        sources: set[str] = set()
        warnings: list[str] = []
        oldest: dt.datetime | None = None
        today = self._clock.today()
        for table in NAME_TABLES:
            query = Query(table.dataset, ALL, "cn", today, today)
            try:
                fresh = functools.partial(self._fresh, table.dataset)
                await self._ensure(attempts, query, fresh, request_id, key=("listing", table.dataset))
            except ProviderError as exc:
                stored = self._fetched_at(table.dataset)
                if stored is None and table is NAME_TABLES[0]:
                    raise  # no stock names at all: nothing to look up in
                warnings.append(f"{table.dataset} could not be refreshed ({type(exc).__name__}: {exc}); " + (
                    f"names as fetched at {stored}" if stored else f"no {table.kind} names are searched"))  # fmt: skip
            fetched = self._fetched_at(table.dataset)
            oldest = fetched if oldest is None or (fetched is not None and fetched < oldest) else oldest
            found = self._memo.get(table.dataset)
            if found is None or found[0] != fetched:
                found = (fetched, self._read(table))
                self._memo[table.dataset] = found
            entries.extend(named for named, _ in found[1])
            sources.update(source for _, source in found[1])
        return Names(tuple(entries), tuple(sorted(sources)), oldest or self._clock.now(), tuple(warnings))

    def _read(self, table: NameTable) -> list[tuple[Named, str]]:
        """One row per code: the most preferred source's (the composer's order)."""
        spec = DATASETS[table.dataset]
        columns = ", ".join(_column(c) for c in (table.spell, table.board, table.industry, table.list_date))
        rows = self._store.read(
            (spec.table,), f"SELECT ts_code, name, {columns}, source FROM {spec.table} WHERE name IS NOT NULL"
        )
        best: dict[str, tuple[int, Named, str]] = {}
        for code, name, spell, board, industry, listed, source in rows:
            rank = self._rank(table.dataset, "cn", source)
            if code not in best or rank < best[code][0]:
                entry = Named(code, name, table.kind, spell, board, industry, listed)
                best[code] = (rank, entry, source)
        return [(entry, source) for _, entry, source in best.values()]
