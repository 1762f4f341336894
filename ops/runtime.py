"""The one place that wires the process: every service, built once from the settings.

Lower packages get small typed configurations and callbacks from here, never the settings
themselves; process-wide state (the GIL slice, requests' routes, tqdm) is set in `ops.process`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from citation.receipts import Signer
from mcp_server.context import ToolContext, ToolOptions
from ops import process
from ops.metrics import Metrics
from ops.settings import Settings
from providers.composer import Composer
from providers.health import ProviderHealth
from providers.registry import UpstreamConfig, build_composer
from providers.web import SearchConfig
from provisioning.binding import Binder
from provisioning.migrate import open_accounts
from provisioning.provisioner import Provisioner
from provisioning.subscriptions import Subscriptions
from provisioning.tokens import TokenStore
from provisioning.usage import Usage
from warehouse.adhoc import AdhocQueries
from warehouse.bars import BarWindows
from warehouse.calendar import TradingCalendar
from warehouse.curate import Curator
from warehouse.fundamentals import FundamentalsService
from warehouse.ingest import Ingestor
from warehouse.ledger import Ledger
from warehouse.listing import Listing
from warehouse.loader import SingleFlight
from warehouse.market_clock import Clock, MarketClock, parse_hhmm, system_clock
from warehouse.quotes import QuoteService
from warehouse.scheduler import Schedule
from warehouse.series import SeriesReader
from warehouse.sets import SetService
from warehouse.store import Warehouse
from warehouse.views import WarehouseViews
from warehouse.web_search import WebSearch


def upstream_config(settings: Settings) -> UpstreamConfig:
    return UpstreamConfig(
        tushare_token=settings.tushare_token.get_secret_value() if settings.tushare_token else None,
        tushare_api_url=settings.tushare_api_url, tdx_servers=settings.tdx_servers,
        cache_dir=settings.home / "yfinance", timeout=settings.upstream_timeout, max_wait=settings.upstream_max_wait,
        tries=settings.upstream_tries, backoff=settings.upstream_backoff, breaker_failures=settings.breaker_failures,
        breaker_cooldown=settings.breaker_cooldown, search=search_config(settings), rate_limits=settings.rate_limits,
        order=settings.provider_order,
    )  # fmt: skip


def search_config(settings: Settings) -> SearchConfig:
    return SearchConfig(
        searxng_url=settings.searxng_url, dashscope_api_key=settings.dashscope_api_key,
        dashscope_search_url=settings.dashscope_search_url, google_cse_api_key=settings.google_cse_api_key,
        google_cse_id=settings.google_cse_id, google_cse_url=settings.google_cse_url,
    )  # fmt: skip


def schedule(settings: Settings) -> Schedule:
    return Schedule(settings.ingest_daily_at, settings.quality_at, settings.macro_weekly_at,
                    settings.freshness_every_hours)  # fmt: skip


def tool_options(settings: Settings) -> ToolOptions:
    # A cut answer's whole result is read from the ledger: no longer than the ledger keeps it.
    ttl = dt.timedelta(hours=min(settings.result_ttl_hours, 24 * settings.ledger_retention_days))
    return ToolOptions(host=settings.host, port=settings.port, log_level=settings.log_level,
                       ledger_enabled=settings.ledger_enabled, base_url=settings.base_url,
                       answer_token_limit=settings.answer_token_limit, result_ttl=ttl)  # fmt: skip


def _preference(composer: Composer, dataset: str) -> list[str]:
    """Sources of `dataset` most preferred first: the A-share order, then the global one."""
    names = [p.name for p in composer.order(dataset, "cn")]
    return names + [p.name for p in composer.order(dataset, "global") if p.name not in names]


@dataclass
class Runtime(ToolContext):
    """What the tools are given, and what only the roof holds (settings, accounts, the provisioner)."""

    settings: Settings
    metrics: Metrics
    health: ProviderHealth
    composer: Composer
    ingestor: Ingestor
    replica: Warehouse | None
    accounts: Engine
    provisioner: Provisioner
    binder: Binder
    subscriptions: Subscriptions
    started_at: dt.datetime

    @classmethod
    def open(cls, settings: Settings, clock: Clock = system_clock, replica: Path | None = None) -> Runtime:
        """`replica`: a snapshot file the warehouse tools read instead of the primary (read-only)."""
        settings.ensure_home()
        process.prepare(settings)
        accounts = open_accounts(settings.accounts_url)  # first: it may refuse (NotMigrated)
        metrics = Metrics()
        health = ProviderHealth()
        store = Warehouse(settings.warehouse_path)
        composer = build_composer(upstream_config(settings), health, metrics.upstream, clock)
        market = MarketClock(clock, parse_hhmm(settings.bar_final_time))
        flight = SingleFlight(metrics.store_lookup)
        calendar = TradingCalendar(store, composer, flight, market)
        curator = Curator(functools.partial(_preference, composer))
        curator.attach(store)
        reader = Warehouse(replica, read_only=True) if replica is not None else store
        parts = (store, composer, calendar, flight, market, settings.lookback_days, curator)
        quotes = QuoteService(*parts, cross_check=tuple(settings.cross_check))
        provisioner = Provisioner(accounts, settings.provisioner_config())
        ledger = Ledger(settings.ledger_path, settings.ledger_retention_days)
        ledger.adopt(store)
        return cls(
            options=tool_options(settings),
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
            search=WebSearch(store, composer, settings.search_cache_ttl_seconds, market.now, metrics.store_lookup),
            ledger=ledger,
            signer=Signer.from_file(settings.receipt_key_path),
            series=SeriesReader(*parts),
            adhoc=AdhocQueries(
                store, composer, market.now, page_rows=settings.catalog_page_rows, max_pages=settings.catalog_max_pages
            ),
            sets=SetService(*parts),
            listing=Listing(*parts),
            bars=BarWindows(*parts),
            started_at=dt.datetime.now(dt.UTC),
        )

    def close(self) -> None:
        self.accounts.dispose()
        self.composer.close()
        if self.replica is not None:
            self.replica.close()
        self.ledger.close()  # with the answers of the last moments
        self.store.derive_pending()  # the file at rest holds the questions' curated rows
        self.store.close()
