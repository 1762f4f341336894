"""Every provider, built from its configuration: clients and guards. The composer gets them in one list."""

from __future__ import annotations

import datetime as dt
import functools
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
from providers.web import SearchConfig, dashscope, google_cse, searxng
from providers.web.client import JsonClient
from providers.web.client import classify as classify_web
from providers.yahoo.client import NAME as YAHOO
from providers.yahoo.client import YahooClient
from providers.yahoo.client import classify as classify_yahoo

RATES = {
    TUSHARE: 200.0,
    AKSHARE: 60.0,
    YAHOO: 60.0,
    PYTDX: 120.0,
    "searxng": 120.0,
    "dashscope": 60.0,
    "google_cse": 60.0,
}  # requests per minute; fmt: skip


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
    search: SearchConfig
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
        *_web(config.search, timeout, provider),
    ]  # fmt: skip
    return Composer(providers, config.order)


def _web(config: SearchConfig, timeout: float, provider: Callable[..., Provider]) -> list[Provider]:
    """The web search upstreams; one not configured is there, saying what it lacks."""
    dashscope_key = config.dashscope_api_key.get_secret_value() if config.dashscope_api_key else None
    google_key = config.google_cse_api_key.get_secret_value() if config.google_cse_api_key else None
    google = {"key": google_key, "cx": config.google_cse_id} if google_key and config.google_cse_id else None
    clients = (
        (searxng.NAME, JsonClient(searxng.NAME, config.searxng_url or "", timeout), searxng,
         None if config.searxng_url else "SEARXNG_URL"),
        ("dashscope", JsonClient("dashscope", config.dashscope_search_url, timeout,
                                 headers={"Authorization": f"Bearer {dashscope_key}"} if dashscope_key else None),
         dashscope, None if dashscope_key else "DASHSCOPE_API_KEY"),
        ("google_cse", JsonClient("google_cse", config.google_cse_url, timeout, params=google), google_cse,
         None if google else "GOOGLE_CSE_API_KEY + GOOGLE_CSE_ID"),
    )  # fmt: skip
    return [
        provider(name, client, [module], functools.partial(classify_web, name), missing)
        for name, client, module, missing in clients
    ]
