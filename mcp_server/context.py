"""What the tools are given: the services they answer from and the few options they read.

The roof (`ops.runtime`) builds it once per process from the settings; the tools see only this,
so that they can be read, and tested, without the process around them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio.to_thread

from citation.receipts import Signer
from provisioning.tokens import TokenStore
from provisioning.usage import Usage
from warehouse.adhoc import AdhocQueries
from warehouse.bars import BarWindows
from warehouse.calendar import TradingCalendar
from warehouse.fundamentals import FundamentalsService
from warehouse.ledger import Ledger
from warehouse.listing import Listing
from warehouse.market_clock import MarketClock
from warehouse.quotes import QuoteService
from warehouse.series import SeriesReader
from warehouse.sets import SetService
from warehouse.store import Warehouse
from warehouse.views import WarehouseViews
from warehouse.web_search import WebSearch

T = TypeVar("T")


class ToolMetrics(Protocol):
    """The counters a tool answer moves (Prometheus, in `ops.metrics`)."""

    def tool_call(self, tool: str, outcome: str, seconds: float) -> None: ...
    def store_lookup(self, dataset: str, outcome: str) -> None: ...
    def verification(self, verdict: str, statuses: list[str]) -> None: ...


@dataclass(frozen=True)
class ToolOptions:
    host: str  # where HTTP is served: the issuer of bearer auth
    port: int
    log_level: str
    ledger_enabled: bool
    base_url: str = ""  # where people download a cut answer's CSV (over HTTP)
    answer_token_limit: int = 8000  # a tabular answer over this is cut (`mcp_server.sizing`); 0 never
    result_ttl: dt.timedelta = dt.timedelta(hours=24)  # how long a cut answer's whole result is readable


@dataclass
class ToolContext:
    options: ToolOptions
    metrics: ToolMetrics
    store: Warehouse
    clock: MarketClock
    quotes: QuoteService
    fundamentals: FundamentalsService
    calendar: TradingCalendar
    views: WarehouseViews  # what the warehouse tools read: the primary, or a replica
    tokens: TokenStore
    usage: Usage
    search: WebSearch
    ledger: Ledger
    signer: Signer
    series: SeriesReader  # windows of dated datasets: index and fund bars, money flow, macro series
    adhoc: AdhocQueries  # tushare_query: any interface of the catalog, stored raw
    sets: SetService  # dividends, holders, forecasts, index members, industries: rows as known on a day
    listing: Listing  # the tables of names `lookup` searches
    bars: BarWindows  # windows of daily bars, fetched where missing (`chart`)

    async def run_read(self, read: Callable[..., T], *args: Any) -> T:
        """A warehouse read in a worker thread, so that a cold query never stalls the event loop."""
        return await anyio.to_thread.run_sync(functools.partial(read, *args))
