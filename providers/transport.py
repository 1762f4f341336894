"""Upstream hosts that libraries hard-code, pointed elsewhere: mirrors, proxies, test stand-ins.

akshare calls `requests.get` on fixed hosts (push2his.eastmoney.com, ...) and yfinance on
query1/query2.finance.yahoo.com, with no setting for either. Every requests session sends
through `Session.send`, so that is where a configured host is swapped for its base URL, a
request without a timeout gets the default one (akshare sets none on some calls, and a hung
upstream must not hang a tool), and the status of the last response is kept per thread for
the providers to classify (akshare parses error pages as if they were data).

requests itself (about 4.5 MiB) is imported by the first upstream call, not at start: a server
that answers from its warehouse never needs it. `forget_status`, which every provider call makes
first, is where the patch goes in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import requests

_routes: dict[str, str] = {}
_state = threading.local()
_default_timeout = 3.0
_installed = False
_patch_lock = threading.Lock()
_original_send: Callable[..., requests.Response] | None = None


def install(routes: Mapping[str, str], timeout: float) -> None:
    """Send every requests session through `_send`, with these routes (host -> base URL, replacing
    any earlier ones) and this default timeout: process-wide, so set by the roof at start."""
    global _default_timeout, _installed
    _routes.clear()
    _routes.update({host.lower(): base.rstrip("/") for host, base in routes.items()})
    _default_timeout = timeout
    _installed = True


def _patch() -> None:
    """Put `_send` under requests' `Session.send`, once, when an upstream call first needs requests."""
    global _original_send
    if _original_send is not None or not _installed:
        return
    with _patch_lock:
        if _original_send is None:
            import requests

            _original_send = requests.Session.send
            requests.Session.send = _send  # type: ignore[method-assign]


def last_status() -> int | None:
    """HTTP status of the last response this thread received through requests."""
    status: int | None = getattr(_state, "status", None)
    return status


def forget_status() -> None:
    """Start a call afresh, so that a failure before any response is not judged by an older one
    (and, on the first call, route requests)."""
    _patch()
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
    assert _original_send is not None  # _send is only ever installed by _patch
    response = _original_send(self, request, **kwargs)
    _state.status = response.status_code
    return response
