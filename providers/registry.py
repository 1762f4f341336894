"""Every provider, built from the settings: clients, guards, routes. The composer gets them in one list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from types import ModuleType

from ops.metrics import Metrics
from ops.settings import Settings
from providers import akshare, pytdx, transport, tushare, yahoo
from providers.akshare.client import NAME as AKSHARE
from providers.akshare.client import AkshareClient
from providers.akshare.client import classify as classify_akshare
from providers.akshare.client import route_all as route_eastmoney
from providers.composer import Composer
from providers.guard import Guard, Limits
from providers.health import ProviderHealth
from providers.provider import Classify, Provider
from providers.pytdx.client import DEFAULT_SERVERS, TdxClient, parse_servers
from providers.pytdx.client import NAME as PYTDX
from providers.pytdx.client import classify as classify_pytdx
from providers.tushare.client import NAME as TUSHARE
from providers.tushare.client import TushareClient
from providers.tushare.client import classify as classify_tushare
from providers.yahoo.client import NAME as YAHOO
from providers.yahoo.client import YahooClient
from providers.yahoo.client import classify as classify_yahoo
from providers.yahoo.client import route_all as route_yahoo

RATES = {TUSHARE: 200.0, AKSHARE: 60.0, YAHOO: 60.0, PYTDX: 120.0}  # requests per minute


def build_composer(
    settings: Settings, health: ProviderHealth, metrics: Metrics, clock: Callable[[], dt.datetime]
) -> Composer:
    transport.set_default_timeout(settings.upstream_timeout)
    if settings.eastmoney_url:
        route_eastmoney(settings.eastmoney_url)
    if settings.yahoo_url:
        route_yahoo(settings.yahoo_url)
    rates = {**RATES, **settings.rate_limits}

    def guard(name: str) -> Guard:
        limits = Limits(
            rate=rates[name],
            max_wait=settings.upstream_max_wait,
            tries=settings.upstream_tries,
            backoff=settings.upstream_backoff,
            failures=settings.breaker_failures,
            cooldown=settings.breaker_cooldown,
        )
        return Guard(name, limits)

    def provider(name: str, client: object, modules: Iterable[ModuleType], classify: Classify,
                 missing: str | None = None) -> Provider:  # fmt: skip
        return Provider(name, client, modules, classify=classify, guard=guard(name), health=health,
                        observe=metrics.upstream, clock=clock, missing=missing)  # fmt: skip

    token = settings.tushare_token.get_secret_value() if settings.tushare_token else None
    timeout = settings.upstream_timeout
    servers = parse_servers(settings.tdx_servers) if settings.tdx_servers else DEFAULT_SERVERS
    providers = [
        provider(TUSHARE, TushareClient(token, settings.tushare_api_url, timeout=timeout), tushare.MODULES,
                 classify_tushare, missing=None if token else "TUSHARE_TOKEN"),
        provider(AKSHARE, AkshareClient(timeout), akshare.MODULES, classify_akshare),
        provider(PYTDX, TdxClient(servers, timeout), pytdx.MODULES, classify_pytdx),
        provider(YAHOO, YahooClient(timeout, settings.home / "yfinance"), yahoo.MODULES, classify_yahoo),
    ]  # fmt: skip
    return Composer(providers, settings.provider_order)
