"""Everything a running server holds open, built once from the settings."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Engine

from citation.receipts import Signer
from ops import __version__
from ops.metrics import Metrics
from ops.settings import Settings
from providers.composer import Composer
from providers.health import ProviderHealth
from providers.registry import build_composer
from providers.web_search import WebSearch
from provisioning.binding import Binder
from provisioning.migrate import open_accounts
from provisioning.provisioner import Provisioner
from provisioning.subscriptions import Subscriptions
from provisioning.tokens import TokenStore
from provisioning.usage import Usage
from warehouse.calendar import TradingCalendar
from warehouse.curate import Curator
from warehouse.fundamentals import FundamentalsService
from warehouse.ingest import Ingestor
from warehouse.ledger import Ledger
from warehouse.loader import SingleFlight
from warehouse.market_clock import Clock, MarketClock, parse_hhmm, system_clock
from warehouse.quotes import QuoteService
from warehouse.store import Warehouse
from warehouse.views import WarehouseViews

T = TypeVar("T")

SERVED_BY = f"twilight-drive/{__version__}"

# How long a Python thread may hold the GIL while another waits (CPython's default is 5 ms).
# DuckDB's Python binding takes the GIL back between the tasks of every query, so a worker
# thread running a load or a read waits one slice per task while the event loop is busy
# serving: at 5 ms a whole-market day took minutes under load instead of 0.3 s. At 0.2 ms the
# busy loop hands over in time, and an idle server never pays for it (bench/ingest.py part 3).
GIL_SLICE_SECONDS = 0.0002


def _preference(composer: Composer, dataset: str) -> list[str]:
    """Sources of `dataset` most preferred first: the A-share order, then the global one."""
    names = [p.name for p in composer.order(dataset, "cn")]
    return names + [p.name for p in composer.order(dataset, "global") if p.name not in names]


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    health: ProviderHealth
    store: Warehouse
    composer: Composer
    clock: MarketClock
    quotes: QuoteService
    fundamentals: FundamentalsService
    ingestor: Ingestor
    calendar: TradingCalendar
    views: WarehouseViews  # what the warehouse tools read: the primary, or a replica
    replica: Warehouse | None
    tokens: TokenStore
    accounts: Engine
    provisioner: Provisioner
    binder: Binder
    subscriptions: Subscriptions
    usage: Usage
    search: WebSearch
    ledger: Ledger
    signer: Signer
    started_at: dt.datetime

    @classmethod
    def open(cls, settings: Settings, clock: Clock = system_clock, replica: Path | None = None) -> Runtime:
        """`replica`: a snapshot file the warehouse tools read instead of the primary (read-only)."""
        settings.ensure_home()
        sys.setswitchinterval(GIL_SLICE_SECONDS)
        accounts = open_accounts(settings.accounts_url)  # first: it may refuse (NotMigrated)
        metrics = Metrics()
        health = ProviderHealth()
        store = Warehouse(settings.warehouse_path)
        composer = build_composer(settings, health, metrics, clock)
        market = MarketClock(clock, parse_hhmm(settings.bar_final_time))
        flight = SingleFlight(metrics)
        calendar = TradingCalendar(store, composer, flight, market)
        curator = Curator(functools.partial(_preference, composer))
        curator.attach(store)
        reader = Warehouse(replica, read_only=True) if replica is not None else store
        parts = (store, composer, calendar, flight, market, settings.lookback_days, curator)
        quotes = QuoteService(*parts, cross_check=tuple(settings.cross_check))
        provisioner = Provisioner(accounts, settings.provisioner_config())
        return cls(
            settings=settings,
            metrics=metrics,
            health=health,
            store=store,
            composer=composer,
            clock=market,
            quotes=quotes,
            fundamentals=FundamentalsService(*parts),
            ingestor=Ingestor(store, composer, calendar, curator, market),
            calendar=calendar,
            views=WarehouseViews(reader),
            replica=reader if reader is not store else None,
            tokens=TokenStore(accounts),
            accounts=accounts,
            provisioner=provisioner,
            binder=Binder(accounts, settings.ilink_url, provisioner.restart),
            subscriptions=Subscriptions(accounts, provisioner, settings.join_url),
            usage=Usage(accounts),
            search=WebSearch(settings, metrics, market.now),
            ledger=Ledger(store, settings.ledger_retention_days),
            signer=Signer.from_file(settings.receipt_key_path),
            started_at=dt.datetime.now(dt.UTC),
        )

    async def run_read(self, read: Callable[..., T], *args: Any) -> T:
        """A warehouse read in a worker thread, so that a cold query never stalls the event loop."""
        return await anyio.to_thread.run_sync(functools.partial(read, *args))

    def close(self) -> None:
        self.accounts.dispose()
        self.composer.close()
        if self.replica is not None:
            self.replica.close()
        self.ledger.flush()  # the answers of the last moments
        self.store.derive_pending()  # the file at rest holds the questions' curated rows
        self.store.close()
