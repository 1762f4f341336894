"""Upstream hosts that libraries hard-code, pointed elsewhere: mirrors, proxies, test stand-ins.

akshare calls `requests.get` on fixed hosts (push2his.eastmoney.com, ...) and yfinance on
query1/query2.finance.yahoo.com, with no setting for either. Every requests session sends
through `Session.send`, so that is where a configured host is swapped for its base URL, a
request without a timeout gets the default one (akshare sets none on some calls, and a hung
upstream must not hang a tool), and the status of the last response is kept per thread for
the providers to classify (akshare parses error pages as if they were data).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

_routes: dict[str, str] = {}
_state = threading.local()
_default_timeout = 3.0
_original_send = requests.Session.send


def install(routes: Mapping[str, str], timeout: float) -> None:
    """Send every requests session through `_send`, with these routes (host -> base URL, replacing
    any earlier ones) and this default timeout: process-wide, so set by the roof at start."""
    global _default_timeout
    _routes.clear()
    _routes.update({host.lower(): base.rstrip("/") for host, base in routes.items()})
    _default_timeout = timeout
    requests.Session.send = _send  # type: ignore[method-assign]


def last_status() -> int | None:
    """HTTP status of the last response this thread received through requests."""
    status: int | None = getattr(_state, "status", None)
    return status


def forget_status() -> None:
    """Start a call afresh, so that a failure before any response is not judged by an older one."""
    _state.status = None


def rewrite(url: str) -> str:
    parts = urlsplit(url)
    base = _routes.get((parts.hostname or "").lower())
    if base is None:
        return url
    target = urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, target.path + parts.path, parts.query, parts.fragment))


def _send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    if request.url:
        request.url = rewrite(request.url)
    if kwargs.get("timeout") is None:
        kwargs["timeout"] = _default_timeout
    _state.status = None
    response = _original_send(self, request, **kwargs)
    _state.status = response.status_code
    return response
