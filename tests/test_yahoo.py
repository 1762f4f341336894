"""The Yahoo provider end to end: the real yfinance, through `Provider`, against the loopback fake.

Every Yahoo host is routed to the fake, and an audit hook refuses (and records) any socket this
module's tests would open to anything but the loopback, so none of them can reach the internet.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from providers import transport
from providers.contract import Query
from providers.errors import BadPayload, NoData, RateLimited, UpstreamUnavailable
from providers.guard import Guard, Limits
from providers.health import ProviderHealth
from providers.models import DATASETS
from providers.provider import Fetched, Provider
from providers.yahoo import MODULES
from providers.yahoo.client import HOSTS, NAME, YahooClient, classify, routes
from tests.fake_yahoo import AAPL_CSV, MOUTAI_CSV, WULIANGYE_CSV, FakeYahoo

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_offline = False
_escapes: list[str] = []


def _refuse_the_internet(event: str, args: tuple[Any, ...]) -> None:
    if not _offline or event not in ("socket.getaddrinfo", "socket.connect"):
        return
    host = args[0] if event == "socket.getaddrinfo" else args[1][0] if isinstance(args[1], tuple) else None
    if isinstance(host, bytes):
        host = host.decode()
    if host is not None and host not in _LOOPBACK:
        _escapes.append(f"{event} {host}")
        raise ConnectionRefusedError(f"test_yahoo is offline: {event} to {host}")


sys.addaudithook(_refuse_the_internet)


@pytest.fixture(scope="module")
def fake(fake_yahoo: FakeYahoo) -> Iterator[FakeYahoo]:
    """The session's stand-in (tests/conftest.py), with this module's socket audit switched on."""
    global _offline
    transport.install(routes(fake_yahoo.url), timeout=3.0)
    _offline = True
    yield fake_yahoo
    _offline = False


@pytest.fixture(scope="module")
def client(fake: FakeYahoo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[YahooClient]:
    yc = YahooClient(timeout=2.0, cache_dir=tmp_path_factory.mktemp("yahoo-cache"))
    yield yc
    yc.close()


@pytest.fixture
def upstream(fake: FakeYahoo) -> Iterator[FakeYahoo]:
    fake.reset()
    _escapes.clear()
    yield fake
    assert _escapes == [], f"a test tried to leave the loopback: {_escapes}"


def provider(client: YahooClient) -> Provider:
    return Provider(
        NAME,
        client,
        MODULES,
        classify=classify,
        guard=Guard(NAME, Limits(backoff=0.001)),
        health=ProviderHealth(),
        observe=lambda _provider, _dataset, _outcome: None,
        clock=lambda: dt.datetime.now(dt.UTC),
    )


@pytest.fixture
def yahoo(client: YahooClient, upstream: FakeYahoo) -> Provider:
    return provider(client)


def ask(p: Provider, dataset: str, code: str, start: str, end: str, *, latest: bool = False) -> Fetched:
    market = "cn" if code.endswith((".SH", ".SZ", ".BJ")) else "global"
    query = Query(dataset, code, market, dt.date.fromisoformat(start), dt.date.fromisoformat(end), latest)
    return p.call(query)


def aapl(start: str, end: str) -> pd.DataFrame:
    frame = pd.read_csv(AAPL_CSV, dtype={"Date": str})
    return frame[(frame["Date"] >= start) & (frame["Date"] <= end)].reset_index(drop=True)


def tushare(code: str, start: str, end: str) -> pd.DataFrame:
    path = {"600519.SH": MOUTAI_CSV, "000858.SZ": WULIANGYE_CSV}[code]
    frame = pd.read_csv(path, dtype={"trade_date": str}).sort_values("trade_date")
    frame = frame[(frame["trade_date"] >= start) & (frame["trade_date"] <= end)]
    return frame.reset_index(drop=True)


def days(rows: pd.DataFrame) -> list[str]:
    return [d.isoformat() for d in rows["trade_date"]]


def test_every_yahoo_host_goes_to_the_fake(fake: FakeYahoo) -> None:
    for host in HOSTS:
        assert transport.rewrite(f"https://{host}/v8/finance/chart/AAPL").startswith(fake.url + "/")


def test_aapl_daily_equals_the_yfinance_download(yahoo: Provider, upstream: FakeYahoo) -> None:
    fetched = ask(yahoo, "daily", "AAPL", "2020-06-01", "2020-06-30")
    rows, want = fetched.rows, aapl("2020-06-01", "2020-06-30")
    assert len(rows) == len(want) == 22
    assert days(rows) == list(want["Date"])
    for ours, theirs in (("open", "Open"), ("high", "High"), ("low", "Low"), ("close", "Close"), ("vol", "Volume")):
        assert rows[ours].tolist() == pytest.approx(want[theirs].astype(float).tolist(), rel=1e-6)
    assert set(rows["ts_code"]) == {"AAPL"} and set(rows["currency"]) == {"USD"}
    assert rows["amount"].isna().all() and rows["pre_close"].isna().all()
    assert fetched.meta["currency"] == "USD" and fetched.meta["timezone"] == "America/New_York"
    assert fetched.raw.params == {"ticker": "AAPL", "start": "2020-06-01", "end": "2020-07-01", "interval": "1d"}
    # Yahoo's end is exclusive: the window reaches midnight after the 30th, New York time.
    (query,) = [q for q in upstream.charts("AAPL") if "period1" in q]
    new_york = ZoneInfo("America/New_York")
    assert int(query["period1"]) == int(dt.datetime(2020, 6, 1, tzinfo=new_york).timestamp())
    assert int(query["period2"]) == int(dt.datetime(2020, 7, 1, tzinfo=new_york).timestamp())


def test_aapl_adj_factor_is_adj_close_over_close(yahoo: Provider, upstream: FakeYahoo) -> None:
    rows, want = ask(yahoo, "adj_factor", "AAPL", "2020-06-01", "2020-06-30").rows, aapl("2020-06-01", "2020-06-30")
    assert days(rows) == list(want["Date"])
    assert rows["adj_factor"].tolist() == pytest.approx((want["Adj Close"] / want["Close"]).tolist(), rel=1e-6)
    assert (rows["adj_factor"] < 1).all()  # AAPL paid dividends after June 2020, before the file's last day
    assert upstream.calls["chart"] >= 1
    assert not yahoo.supports("adj_factor", "cn")


@pytest.mark.parametrize(("code", "ticker"), [("600519.SH", "600519.SS"), ("000858.SZ", "000858.SZ")])
def test_a_shares_equal_tushare_close_and_lots(yahoo: Provider, upstream: FakeYahoo, code: str, ticker: str) -> None:
    fetched = ask(yahoo, "daily", code, "2024-06-03", "2024-06-28")
    rows, want = fetched.rows, tushare(code, "20240603", "20240628")
    assert len(rows) == len(want) == 19  # 2024-06-10 was the Dragon Boat holiday
    assert [d.strftime("%Y%m%d") for d in rows["trade_date"]] == list(want["trade_date"])
    for column in ("open", "high", "low", "close", "vol"):  # vol in lots, as tushare's
        assert rows[column].tolist() == pytest.approx(want[column].tolist(), rel=1e-9)
    assert set(rows["ts_code"]) == {code} and set(rows["currency"]) == {"CNY"}
    assert rows["amount"].isna().all() and rows["pre_close"].isna().all()
    assert upstream.charts(ticker) and {p for p, _ in upstream.log if p.startswith("/v8/")} == {
        f"/v8/finance/chart/{ticker}"
    }


def test_latest_is_the_newest_bar_on_or_before_end(yahoo: Provider, upstream: FakeYahoo) -> None:
    # 2020-07-03 was a market holiday and the 4th a Saturday: the newest bar is the 2nd.
    fetched = ask(yahoo, "daily", "AAPL", "2020-07-04", "2020-07-04", latest=True)
    assert days(fetched.rows) == ["2020-07-02"]
    assert fetched.rows["close"].iloc[0] == pytest.approx(aapl("2020-07-02", "2020-07-02")["Close"].iloc[0])
    assert fetched.raw.params["start"] == "2020-06-13"  # the last three weeks: not the whole history
    rows = ask(yahoo, "daily", "600519.SH", "2024-12-31", "2024-12-31", latest=True).rows
    assert days(rows) == ["2024-12-31"] and rows["close"].iloc[0] == 1524.0


def test_latest_after_a_long_silence_asks_the_whole_history(yahoo: Provider, upstream: FakeYahoo) -> None:
    # The stand-in's AAPL ends in 2021: three weeks before mid-2023 hold nothing, so Yahoo is asked again from 1970.
    fetched = ask(yahoo, "daily", "AAPL", "2023-06-01", "2023-06-01", latest=True)
    assert days(fetched.rows) == [aapl("2021-12-01", "2021-12-31")["Date"].iloc[-1]]
    assert fetched.raw.params["start"] == "1970-01-02" and len(upstream.charts("AAPL")) == 2


def test_a_window_without_sessions_is_an_empty_answer(yahoo: Provider, upstream: FakeYahoo) -> None:
    # Independence Day observed on Friday 2020-07-03, then a weekend: Yahoo sends meta and no bars.
    fetched = ask(yahoo, "daily", "AAPL", "2020-07-03", "2020-07-05")
    assert fetched.rows.empty and list(fetched.rows.columns) == list(DATASETS["daily"].columns)
    assert fetched.meta["currency"] == "USD"
    assert upstream.charts("AAPL")


def test_beijing_shares_are_no_data_without_asking(yahoo: Provider, upstream: FakeYahoo) -> None:
    with pytest.raises(NoData):
        ask(yahoo, "daily", "830799.BJ", "2024-06-03", "2024-06-28")
    assert sum(upstream.calls.values()) == 0


def test_unknown_ticker_is_no_data(yahoo: Provider, upstream: FakeYahoo) -> None:
    # yfinance looks an unknown ticker's timezone up in quoteSummary for the first two per
    # process (404: HTTPError), then gives up at once (YFTzMissingError): both are NoData.
    for ticker in ("NOSUCH1", "NOSUCH2", "NOSUCH3"):
        with pytest.raises(NoData):
            ask(yahoo, "daily", ticker, "2020-06-01", "2020-06-30")
        assert upstream.charts(ticker)


def test_http_503_is_unavailable_and_retried(yahoo: Provider, upstream: FakeYahoo) -> None:
    upstream.mode = "down"
    with pytest.raises(UpstreamUnavailable):
        ask(yahoo, "daily", "AAPL", "2020-06-01", "2020-06-30")
    assert len(upstream.charts("AAPL")) >= 3  # the guard's three tries each reached the chart


def test_http_429_is_rate_limited(yahoo: Provider, upstream: FakeYahoo) -> None:
    upstream.mode = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        ask(yahoo, "daily", "AAPL", "2020-06-01", "2020-06-30")
    assert caught.value.retry_after == 60
    assert upstream.charts("AAPL")


@pytest.mark.parametrize("mode", ["bad_json", "bad_shape"])
def test_unreadable_chart_is_bad_payload(yahoo: Provider, upstream: FakeYahoo, mode: str) -> None:
    upstream.mode = mode
    with pytest.raises(BadPayload):
        ask(yahoo, "daily", "AAPL", "2020-06-01", "2020-06-30")
    assert upstream.charts("AAPL")


def test_a_hung_yahoo_times_out_at_the_clients_timeout(client: YahooClient, upstream: FakeYahoo) -> None:
    """yfinance waits up to 30 s for its cookie and 10 s for the timezone; the client caps both."""
    quick = YahooClient(timeout=0.2, cache_dir=client.cache_dir)
    upstream.delay = 1.0
    started = time.monotonic()
    try:
        with pytest.raises(UpstreamUnavailable):
            ask(provider(quick), "daily", "AAPL", "2020-06-01", "2020-06-30")
    finally:
        quick.close()
    assert time.monotonic() - started < 8
    assert upstream.charts("AAPL")
