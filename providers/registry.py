"""Every provider, built from its configuration: clients and guards. The composer gets them in one list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from providers import akshare, pytdx, tushare, yahoo
from providers.akshare.client import NAME as AKSHARE
from providers.akshare.client import AkshareClient
from providers.akshare.client import classify as classify_akshare
from providers.composer import Composer
from providers.guard import Guard, Limits
from providers.health import ProviderHealth
from providers.provider import Classify, Observe, Provider
from providers.pytdx.client import DEFAULT_SERVERS, TdxClient, parse_servers
from providers.pytdx.client import NAME as PYTDX
from providers.pytdx.client import classify as classify_pytdx
from providers.tushare.client import NAME as TUSHARE
from providers.tushare.client import TushareClient
from providers.tushare.client import classify as classify_tushare
from providers.yahoo.client import NAME as YAHOO
from providers.yahoo.client import YahooClient
from providers.yahoo.client import classify as classify_yahoo

RATES = {TUSHARE: 200.0, AKSHARE: 60.0, YAHOO: 60.0, PYTDX: 120.0}  # requests per minute


@dataclass(frozen=True)
class UpstreamConfig:
    """What the providers are built from (the roof, `ops.runtime`, makes it from the settings)."""

    tushare_token: str | None
    tushare_api_url: str | None
    tdx_servers: list[str]
    cache_dir: Path  # yfinance's time-zone cache
    timeout: float
    max_wait: float
    tries: int
    backoff: float
    breaker_failures: int
    breaker_cooldown: float
    rate_limits: dict[str, float] = field(default_factory=dict)  # over RATES
    order: dict[str, list[str]] = field(default_factory=dict)  # the composer's, per dataset.market


def build_composer(
    config: UpstreamConfig, health: ProviderHealth, observe: Observe, clock: Callable[[], dt.datetime]
) -> Composer:
    rates = {**RATES, **config.rate_limits}

    def guard(name: str) -> Guard:
        limits = Limits(
            rate=rates[name], max_wait=config.max_wait, tries=config.tries, backoff=config.backoff,
            failures=config.breaker_failures, cooldown=config.breaker_cooldown,
        )  # fmt: skip
        return Guard(name, limits)

    def provider(name: str, client: object, modules: Iterable[ModuleType], classify: Classify,
                 missing: str | None = None) -> Provider:  # fmt: skip
        return Provider(name, client, modules, classify=classify, guard=guard(name), health=health,
                        observe=observe, clock=clock, missing=missing)  # fmt: skip

    token, timeout = config.tushare_token, config.timeout
    servers = parse_servers(config.tdx_servers) if config.tdx_servers else DEFAULT_SERVERS
    providers = [
        provider(TUSHARE, TushareClient(token, config.tushare_api_url, timeout=timeout), tushare.MODULES,
                 classify_tushare, missing=None if token else "TUSHARE_TOKEN"),
        provider(AKSHARE, AkshareClient(timeout), akshare.MODULES, classify_akshare),
        provider(PYTDX, TdxClient(servers, timeout), pytdx.MODULES, classify_pytdx),
        provider(YAHOO, YahooClient(timeout, config.cache_dir), yahoo.MODULES, classify_yahoo),
    ]  # fmt: skip
    return Composer(providers, config.order)
