"""One door to Yahoo Finance: the real yfinance, on a session we control, with its failures typed.

Why it is wired this way:

- A plain `requests.Session`, not yfinance's default curl_cffi one: only `requests` goes through
  `providers.transport`, which routes Yahoo's hard-coded hosts (`HOSTS`) to mirrors or test
  stand-ins. yfinance keeps one session per process (`YfData` is a singleton), so every client
  shares the last session handed to it; ours are interchangeable.
- yfinance asks for the exchange timezone (a `range=1d` chart) and a cookie and crumb
  (fc.yahoo.com, /v1/test/getcrumb) with its own 10-30 s timeouts; the session's adapter caps
  every request at the client's timeout, so a hung Yahoo cannot hold a tool for a minute.
- Failures must raise, not come back as an empty frame and a log line (which would read as "no
  rows"). yfinance 1.7 deprecates `history(raise_errors=True)` (it warns on every call) in favour
  of `config.debug.hide_exceptions = False`, which is process-wide; this client sets it.
- yfinance memoises chart responses of past windows for the life of the process, error answers
  included, and a past day's Adj Close changes with every later dividend. The memo is cleared
  before each fetch, so a retry really asks again and factors are as of now.
- yfinance raises for a window without sessions too (holidays, before listing). When Yahoo
  sent the chart's metadata and no error, that is an empty answer, not a failure.
- Its timezone cache (sqlite) and cookie cache live in `cache_dir`, never in ~/.cache. yfinance
  opens them once per process, so the directory of the first client to chart is the one used.
- yfinance (with curl_cffi, protobuf, websockets and peewee under it) is imported, and set up as
  above, on the first chart, not when the server starts: most servers never ask Yahoo.

`classify` reads yfinance's exception classes and the HTTP status of the last response on this
thread (`transport.last_status`), never messages: yfinance raises no class of its own for an
HTTP 5xx and simply fails to parse the error page as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers import transport
from providers.contract import Query
from providers.errors import BadPayload, NoData, ProviderError, RateLimited, UpstreamUnavailable

if TYPE_CHECKING:
    import pandas as pd
    import requests

NAME = "yahoo"
HOSTS = (
    "query1.finance.yahoo.com",  # getcrumb (cookie strategy "basic"), v7 quote
    "query2.finance.yahoo.com",  # v8 chart (history and timezone), getcrumb ("csrf"), v10 quoteSummary
    "fc.yahoo.com",  # the A3 cookie
    "guce.yahoo.com",  # consent form and copyConsent ("csrf" cookie strategy, after a 4xx/5xx)
    "consent.yahoo.com",  # collectConsent, and the consent page Yahoo redirects to in the EU
    "finance.yahoo.com",  # where the consent flow redirects back to
)
_THROTTLE_WAIT = 60  # Yahoo sends no Retry-After; its blocks are per minute or longer
_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
Timeout = float | tuple[float, float] | tuple[float, None] | None
_YFINANCE = threading.Lock()  # see YahooClient.chart
COLUMNS = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]  # of yfinance's history(auto_adjust=False)


def routes(base_url: str) -> dict[str, str]:
    """Every Yahoo host yfinance contacts for history, pointed at one base URL (a mirror, a proxy, a stand-in)."""
    return dict.fromkeys(HOSTS, base_url)


def yahoo_ticker(query: Query, dataset: str) -> str:
    """Yahoo's symbol for the code we were asked: Shanghai is .SS there; Beijing is not listed at all."""
    if query.market != "cn":
        return query.code
    digits, _, exchange = query.code.partition(".")
    if exchange == "BJ":
        raise NoData(f"Yahoo lists no Beijing Stock Exchange shares ({query.code})", provider=NAME, dataset=dataset)
    return f"{digits}.SS" if exchange == "SH" else query.code


def _session(cap: float) -> requests.Session:
    """A session whose every request waits at most `cap` seconds (yfinance passes its own timeouts
    through, some of them None). Made at the first chart: requests is not loaded before."""
    import requests
    from requests.adapters import HTTPAdapter

    def bound(timeout: Timeout) -> Timeout:
        if timeout is None:
            return cap
        if isinstance(timeout, tuple):
            return (min(timeout[0], cap), min(timeout[1] or cap, cap))
        return min(timeout, cap)

    class CappedTimeout(HTTPAdapter):
        def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Timeout = None,
                 verify: bool | str = True, cert: Any = None, proxies: Any = None) -> requests.Response:  # fmt: skip
            return super().send(request, stream, bound(timeout), verify, cert, proxies)

    session = requests.Session()
    session.headers.update(
        {"User-Agent": _USER_AGENT, "Accept": "*/*", "Accept-Language": "en-US,en;q=0.5"}
    )  # Yahoo throttles the python-requests agent outright
    adapter = CappedTimeout()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class YahooClient:
    """yfinance with our session, timeout and cache directory; `chart` is one history request."""

    def __init__(self, timeout: float, cache_dir: Path) -> None:
        self.timeout = timeout
        self.cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._configured = False
        self._session: requests.Session | None = None

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def _yfinance(self) -> Any:
        """yfinance, set up on this client's first chart: its caches in `cache_dir`, its failures
        raised (process-wide settings, hence under `_YFINANCE`)."""
        import yfinance as yf

        if not self._configured:
            yf.set_tz_cache_location(str(self.cache_dir))
            yf.config.debug.hide_exceptions = False
            self._session = _session(self.timeout)
            self._configured = True
        return yf

    def chart(self, ticker: str, start: dt.date, end: dt.date) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Daily bars start..end-1 (Yahoo's end is exclusive) and the chart's metadata.

        Prices are as Yahoo charts them: `Close` split-adjusted only, `Adj Close` also for dividends.
        """
        import pandas as pd
        from yfinance.data import YfData
        from yfinance.exceptions import YFPricesMissingError

        with _YFINANCE, warnings.catch_warnings():
            # yfinance 1.7 still calls pandas APIs that pandas 3 deprecates (sort_index(inplace=True)):
            # warnings raised from its own lines are its to fix, and say nothing about Yahoo's answer.
            # The filter list is process-wide, hence the lock: overlapping catch_warnings blocks in
            # two threads would restore each other's filters.
            for category in (DeprecationWarning, FutureWarning):
                warnings.filterwarnings("ignore", category=category, module=r"yfinance(\.|$)")
            yf = self._yfinance()
            YfData.cache_get.cache_clear()
            handle = yf.Ticker(ticker, session=self._session)
            try:
                frame = handle.history(
                    start=start, end=end, interval="1d", auto_adjust=False, actions=False, timeout=self.timeout
                )
            except YFPricesMissingError as exc:
                # A chart with its metadata but no bars and no error is a window without sessions
                # (holidays, before listing): an empty answer, which the store records as asked.
                if exc.yahoo_reason is not None or "exchangeTimezoneName" not in handle.history_metadata:
                    raise
                frame = pd.DataFrame(columns=COLUMNS, index=pd.DatetimeIndex([]))
            meta = handle.history_metadata
            return frame, {"currency": meta["currency"], "timezone": meta["exchangeTimezoneName"]}


def _status(exc: Exception) -> int | None:
    import requests

    response = getattr(exc, "response", None) if isinstance(exc, requests.HTTPError) else None
    return response.status_code if response is not None else transport.last_status()


def classify(dataset: str, exc: Exception) -> ProviderError:
    """Turn what yfinance raised into a typed error, by exception class and HTTP status.

    yfinance answers an HTTP error with the body it got, so a 5xx surfaces as a JSON decode error
    and only the status tells it from a malformed chart. An unknown ticker surfaces as
    YFTzMissingError, except for the first two per process, whose timezone yfinance then looks
    up in quoteSummary, which raises HTTPError 404.
    """
    import requests
    from yfinance.exceptions import YFDataException, YFException, YFRateLimitError, YFTickerMissingError

    if isinstance(exc, ProviderError):
        return exc
    where, status = f"yahoo {dataset}", _status(exc)
    if isinstance(exc, YFRateLimitError) or status == 429:
        return RateLimited(
            f"{where}: Yahoo is throttling this server (HTTP 429)",
            provider=NAME,
            dataset=dataset,
            retry_after=_THROTTLE_WAIT,
        )
    if isinstance(exc, requests.Timeout):
        return UpstreamUnavailable(f"{where} timed out", provider=NAME, dataset=dataset)
    if isinstance(exc, requests.ConnectionError):
        return UpstreamUnavailable(f"{where} unreachable: {type(exc).__name__}", provider=NAME, dataset=dataset)
    if status is not None and (status >= 500 or status in (401, 403)):
        return UpstreamUnavailable(f"{where}: Yahoo answered HTTP {status}", provider=NAME, dataset=dataset)
    if isinstance(exc, YFTickerMissingError) or status == 404:  # YFTzMissingError, YFPricesMissingError
        return NoData(f"{where}: {exc}", provider=NAME, dataset=dataset)
    if isinstance(exc, (json.JSONDecodeError, ValueError, KeyError, TypeError, IndexError, AttributeError)):
        return BadPayload(f"{where} answered a chart yfinance cannot read: {exc!r}", provider=NAME, dataset=dataset)
    if isinstance(exc, requests.RequestException):
        return UpstreamUnavailable(f"{where} failed: {type(exc).__name__}", provider=NAME, dataset=dataset)
    if isinstance(exc, YFDataException):  # Yahoo's "Will be right back" maintenance page
        return UpstreamUnavailable(f"{where}: {exc}", provider=NAME, dataset=dataset)
    if isinstance(exc, YFException):  # yfinance could not reconcile the chart (e.g. events out of range)
        return BadPayload(f"{where}: {exc}", provider=NAME, dataset=dataset)
    return UpstreamUnavailable(f"{where} failed: {exc!r}", provider=NAME, dataset=dataset)
