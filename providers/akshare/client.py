"""akshare as a provider: its hosts, its timeout, and its failures as typed errors.

akshare calls `requests` on hard-coded Eastmoney hosts and parses whatever comes back, so an
error page surfaces as a JSON or key error deep inside it. `providers.transport` keeps the
HTTP status of the last response, which is what tells an outage or a throttle from a
payload we cannot read.
"""

from __future__ import annotations

import json

from providers import transport
from providers.errors import BadPayload, NoData, ProviderError, RateLimited, UpstreamUnavailable

NAME = "akshare"
# klines; F10; spot; macro (CPI, PPI, PMI)
HOSTS = ("push2his.eastmoney.com", "datacenter.eastmoney.com", "82.push2.eastmoney.com", "datacenter-web.eastmoney.com")
_THROTTLE_WAIT = 60  # Eastmoney sends no Retry-After; a minute is what its blocks usually last


class AkshareClient:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout


def routes(base_url: str) -> dict[str, str]:
    """Every Eastmoney host akshare uses, pointed at one base URL (a mirror, a proxy, a stand-in)."""
    return dict.fromkeys(HOSTS, base_url)


def classify(dataset: str, exc: Exception) -> ProviderError:
    import requests  # loaded already: akshare raised it

    status = transport.last_status()
    where = f"akshare {dataset}"
    if isinstance(exc, requests.Timeout):
        return UpstreamUnavailable(f"{where} timed out", provider=NAME, dataset=dataset)
    if isinstance(exc, requests.ConnectionError):
        return UpstreamUnavailable(f"{where} unreachable: {type(exc).__name__}", provider=NAME, dataset=dataset)
    if status == 429 or status == 403:
        return RateLimited(
            f"{where}: Eastmoney is throttling this server (HTTP {status})",
            provider=NAME,
            dataset=dataset,
            retry_after=_THROTTLE_WAIT,
        )
    if status is not None and status >= 500:
        return UpstreamUnavailable(f"{where}: Eastmoney answered HTTP {status}", provider=NAME, dataset=dataset)
    if status == 404:
        return NoData(f"{where}: Eastmoney has no such resource (HTTP 404)", provider=NAME, dataset=dataset)
    if isinstance(exc, requests.RequestException):
        return UpstreamUnavailable(f"{where} failed: {type(exc).__name__}", provider=NAME, dataset=dataset)
    if isinstance(exc, (json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError, AttributeError)):
        return BadPayload(f"{where} answered a payload akshare cannot read: {exc!r}", provider=NAME, dataset=dataset)
    return UpstreamUnavailable(f"{where} failed: {exc!r}", provider=NAME, dataset=dataset)
