"""A loopback stand-in for Yahoo Finance, serving real figures so the real yfinance runs against it.

yfinance reaches Yahoo on hard-coded hosts; `providers.yahoo.client.route_all(fake.url)` sends
them all here, so this one server answers every path yfinance asks for while fetching history:

    GET /                               fc.yahoo.com: a 404 that sets the A3 cookie
    GET /v1/test/getcrumb               query1/query2: the crumb, as text
    GET /v8/finance/chart/{ticker}      query2: the chart (period1/period2 or range, interval=1d)
    GET /v10/finance/quoteSummary/{t}   query2: only asked when the chart has no timezone
    GET /v7/finance/quote               query1: likewise
    anything else (guce/consent pages)  404, which makes yfinance fall back to the cookie above

The chart has Yahoo's shape: `meta` (currency, exchangeTimezoneName, instrumentType, ...),
`timestamp` at each session's open in UTC, `indicators.quote[0]` and `indicators.adjclose[0]`.
AAPL comes from tests/fixtures/yahoo (a real yfinance download, USD). 600519.SS and 000858.SZ
come from the tushare fixtures of 600519.SH and 000858.SZ: volume in shares is tushare's lots
x 100, and `adjclose` is the close itself, because those files carry no dividend-adjusted
series (nothing is invented).
An unknown ticker gets Yahoo's 404 JSON. Requests are counted per endpoint and logged.

Failures, as Yahoo has them: mode `down` answers everything HTTP 503 with an HTML page,
`rate_limit` HTTP 429 "Too Many Requests", `bad_json` a chart cut off mid-document and
`bad_shape` a chart without its `meta`; `delay` holds every answer (a hung Yahoo).

Run it by hand for a demo: `python -m tests.fake_yahoo --port 7702`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.loopback import LoopbackHTTP, respond, run_until_interrupted

FIXTURES = Path(__file__).parent / "fixtures"
AAPL_CSV = FIXTURES / "yahoo" / "AAPL_2019-2021.csv"
MOUTAI_CSV = FIXTURES / "tushare" / "daily_600519.SH_2020-2024.csv"
WULIANGYE_CSV = FIXTURES / "tushare" / "daily_000858.SZ_2020-2024.csv"
CRUMB = "kQ3fBz0Lx9e"
COOKIE = "A3=d=AQABBFakeLoopbackCookie&S=AQAAAFake; Max-Age=31557600; Path=/; SameSite=None; HttpOnly"
VALID_RANGES = ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"]
RANGE_DAYS = {"1mo": 31, "3mo": 92, "6mo": 183, "1y": 366, "2y": 731, "5y": 1827, "10y": 3653}
NOT_FOUND = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
DOWN_PAGE = b"<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>"


@dataclass(frozen=True, slots=True)
class Bar:
    day: dt.date
    open: float
    high: float
    low: float
    close: float
    adjclose: float
    volume: int


@dataclass(frozen=True, slots=True)
class Listing:
    symbol: str
    currency: str
    timezone: str
    exchange: str
    full_exchange: str
    name: str
    opens: dt.time
    closes: dt.time
    first_trade: dt.date
    bars: list[Bar]

    def at(self, day: dt.date, when: dt.time) -> int:
        return int(dt.datetime.combine(day, when, ZoneInfo(self.timezone)).timestamp())


def _aapl() -> list[Bar]:
    with AAPL_CSV.open(encoding="utf-8") as handle:
        return [
            Bar(dt.date.fromisoformat(r["Date"]), float(r["Open"]), float(r["High"]), float(r["Low"]),
                float(r["Close"]), float(r["Adj Close"]), int(r["Volume"]))
            for r in csv.DictReader(handle)
        ]  # fmt: skip


def _tushare(path: Path) -> list[Bar]:
    with path.open(encoding="utf-8") as handle:
        bars = [
            Bar(dt.datetime.strptime(r["trade_date"], "%Y%m%d").date(), float(r["open"]), float(r["high"]),
                float(r["low"]), float(r["close"]), float(r["close"]), round(float(r["vol"]) * 100))
            for r in csv.DictReader(handle)
        ]  # fmt: skip
    return sorted(bars, key=lambda b: b.day)


def load_listings() -> dict[str, Listing]:
    return {
        "AAPL": Listing("AAPL", "USD", "America/New_York", "NMS", "NasdaqGS", "Apple Inc.", dt.time(9, 30),
                        dt.time(16, 0), dt.date(1980, 12, 12), _aapl()),
        "600519.SS": Listing("600519.SS", "CNY", "Asia/Shanghai", "SHH", "Shanghai",
                             "Kweichow Moutai Co., Ltd.", dt.time(9, 30), dt.time(15, 0), dt.date(2001, 8, 27),
                             _tushare(MOUTAI_CSV)),
        "000858.SZ": Listing("000858.SZ", "CNY", "Asia/Shanghai", "SHZ", "Shenzhen",
                             "Wuliangye Yibin Co.,Ltd.", dt.time(9, 30), dt.time(15, 0), dt.date(1998, 4, 27),
                             _tushare(WULIANGYE_CSV)),
    }  # fmt: skip


def _period(listing: Listing, start: dt.date, end: dt.date) -> dict[str, Any]:
    tz = ZoneInfo(listing.timezone)
    begins = dt.datetime.combine(start, listing.opens, tz)
    return {
        "timezone": begins.tzname(),
        "start": listing.at(start, listing.opens),
        "end": listing.at(end, listing.closes),
        "gmtoffset": int((begins.utcoffset() or dt.timedelta()).total_seconds()),
    }


def chart(listing: Listing, bars: list[Bar], range_text: str) -> dict[str, Any]:
    """Yahoo's chart document for `bars` (the newest bar of the listing is "now")."""
    last = listing.bars[-1]
    before = [b for b in listing.bars if bars and b.day < bars[0].day]
    period = _period(listing, last.day, last.day)
    meta: dict[str, Any] = {
        "currency": listing.currency, "symbol": listing.symbol, "exchangeName": listing.exchange,
        "fullExchangeName": listing.full_exchange, "instrumentType": "EQUITY",
        "firstTradeDate": listing.at(listing.first_trade, listing.opens),
        "regularMarketTime": listing.at(last.day, listing.closes), "hasPrePostMarketData": listing.currency == "USD",
        "gmtoffset": period["gmtoffset"], "timezone": period["timezone"],
        "exchangeTimezoneName": listing.timezone, "regularMarketPrice": last.close,
        "fiftyTwoWeekHigh": max(b.high for b in listing.bars[-250:]),
        "fiftyTwoWeekLow": min(b.low for b in listing.bars[-250:]),
        "regularMarketDayHigh": last.high, "regularMarketDayLow": last.low, "regularMarketVolume": last.volume,
        "longName": listing.name, "shortName": listing.name,
        "chartPreviousClose": (before[-1] if before else (bars or listing.bars)[0]).close, "priceHint": 2,
        "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
        "dataGranularity": "1d", "range": range_text, "validRanges": VALID_RANGES,
    }  # fmt: skip
    result: dict[str, Any] = {"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}
    if bars:
        result["timestamp"] = [listing.at(b.day, listing.opens) for b in bars]
        quote = {k: [getattr(b, k) for b in bars] for k in ("open", "high", "low", "close", "volume")}
        result["indicators"] = {"quote": [quote], "adjclose": [{"adjclose": [b.adjclose for b in bars]}]}
    return {"chart": {"result": [result], "error": None}}


class FakeYahoo(LoopbackHTTP):
    """Start with `start()`; route Yahoo's hosts to `url`."""

    methods = ("GET", "POST")

    def __init__(self, port: int = 0) -> None:
        self.listings = load_listings()
        self.calls: Counter[str] = Counter()  # per endpoint: cookie, crumb, chart, quoteSummary, quote, other
        self.log: list[tuple[str, dict[str, str]]] = []  # (path, query) of every request, in order
        self.mode: str | None = None  # down | rate_limit | bad_json | bad_shape
        self.delay = 0.0  # seconds to wait before every answer (a hung Yahoo)
        super().__init__(port)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.log.clear()
        self.mode = None
        self.delay = 0.0

    def charts(self, ticker: str) -> list[dict[str, str]]:
        """The query of every chart request for `ticker` so far."""
        with self._lock:
            return [q for p, q in self.log if p == f"/v8/finance/chart/{ticker}"]

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        endpoint = self._endpoint(path)
        with self._lock:
            self.calls[endpoint] += 1
            self.log.append((path, query))
        if self.delay:
            time.sleep(self.delay)
        if self.mode == "down":
            return 503, DOWN_PAGE, {"Content-Type": "text/html"}
        if self.mode == "rate_limit":
            return 429, b"Too Many Requests\r\n", {"Content-Type": "text/html"}
        if endpoint == "cookie":
            return 404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html", "Set-Cookie": COOKIE}
        if endpoint == "crumb":
            return 200, CRUMB.encode(), {"Content-Type": "text/plain"}
        if endpoint == "other":
            return 404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"}
        if self.mode == "bad_json":
            return 200, b'{"chart":{"result":[{"meta":{"currency":"USD",', {"Content-Type": "application/json"}
        status, document = self._document(endpoint, path, query)
        return status, json.dumps(document).encode(), {"Content-Type": "application/json"}

    @staticmethod
    def _endpoint(path: str) -> str:
        if path in ("", "/"):
            return "cookie"
        if path == "/v1/test/getcrumb":
            return "crumb"
        for prefix, name in (("/v8/finance/chart/", "chart"), ("/v10/finance/quoteSummary/", "quoteSummary")):
            if path.startswith(prefix):
                return name
        return "quote" if path == "/v7/finance/quote" else "other"

    def _document(self, endpoint: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if endpoint == "quote":
            found = [self.listings[s] for s in query.get("symbols", "").split(",") if s in self.listings]
            quotes = [{"symbol": x.symbol, "currency": x.currency, "exchangeTimezoneName": x.timezone} for x in found]
            return 200, {"quoteResponse": {"result": quotes, "error": None}}
        ticker = path.rsplit("/", 1)[-1].upper()
        listing = self.listings.get(ticker)
        if endpoint == "quoteSummary":
            if listing is None:
                error = {"code": "Not Found", "description": f"Quote not found for symbol: {ticker}"}
                return 404, {"quoteSummary": {"result": None, "error": error}}
            kind = {"symbol": ticker, "quoteType": "EQUITY", "timeZoneFullName": listing.timezone}
            return 200, {"quoteSummary": {"result": [{"quoteType": kind}], "error": None}}
        if listing is None:
            return 404, {"chart": {"result": None, "error": NOT_FOUND}}
        if query.get("interval", "1d") != "1d":
            error = {"code": "Bad Request", "description": f"Invalid input - interval={query['interval']}"}
            return 400, {"chart": {"result": None, "error": error}}
        bars, range_text = self._select(listing, query)
        document = chart(listing, bars, range_text)
        if self.mode == "bad_shape":
            del document["chart"]["result"][0]["meta"]
        return 200, document

    @staticmethod
    def _select(listing: Listing, query: dict[str, str]) -> tuple[list[Bar], str]:
        if "period1" in query or "period2" in query:
            first = int(float(query.get("period1") or -(2**40)))
            last = int(float(query.get("period2") or 2**40))
            return [b for b in listing.bars if first <= listing.at(b.day, listing.opens) < last], ""
        wanted = query.get("range", "1mo")
        newest = listing.bars[-1].day
        if wanted == "max":
            return list(listing.bars), wanted
        if wanted in ("1d", "5d"):
            return listing.bars[-int(wanted[:-1]) :], wanted
        since = dt.date(newest.year, 1, 1) if wanted == "ytd" else newest - dt.timedelta(RANGE_DAYS.get(wanted, 31))
        return [b for b in listing.bars if b.day > since], wanted

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(request.headers.get("Content-Length") or 0)
        if length:
            request.rfile.read(length)
        status, body, headers = self.answer(parts.path, query)
        respond(request, status, body, headers)


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=7702)
    args = cli.parse_args()
    server = FakeYahoo(args.port).start()
    run_until_interrupted(server, f"fake Yahoo at {server.url} (tickers: {', '.join(server.listings)})")
