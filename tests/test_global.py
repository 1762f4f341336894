"""`price` for global tickers: Yahoo through yfinance, in the ticker's own currency and units."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RuntimeFactory
from tests.fake_yahoo import FakeYahoo
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio


async def _price(rt: Any, **arguments: Any) -> dict[str, Any]:
    result = await call(rt, "price", **arguments)
    assert not result.is_error, result.content
    body: dict[str, Any] = result.structured_content or {}
    return body


async def test_aapl_comes_from_yahoo_in_usd(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    body = await _price(make_runtime(token=None), code="AAPL", trade_date="2020-06-15")
    # tests/fixtures/yahoo/AAPL_2019-2021.csv, 2020-06-15: Close 85.7474975..., Adj Close 84.0735..., Volume 138808800
    assert body["ts_code"] == "AAPL" and body["source"] == "yahoo" and body["trade_date"] == "2020-06-15"
    assert body["close_raw"] == 85.7475  # Yahoo's float32 at its own precision, not 85.74749755859375
    assert body["volume"] == 138808800 and body["amount"] is None
    assert body["units"] == {"price": "USD", "volume": "shares", "amount": None, "share_count": None,
                             "market_cap": None}  # fmt: skip
    assert body["adj_factor"] == pytest.approx(84.0735092163086 / 85.74749755859375, rel=1e-9)
    assert body["cite"]["adj_factor_latest_date"] == "2021-12-30" and body["close_hfq"] is None
    qfq = 85.74749755859375 * body["adj_factor"] / body["adj_factor_latest"]
    assert body["close_qfq"] == pytest.approx(qfq, rel=1e-6)
    assert body["market_state"] == "closed_final" and "global ticker" in body["cite"]["calendar"]
    assert any("relative to its latest bar" in w for w in body["cite"]["warnings"])
    assert body["source_chain"] == ["warehouse", "yahoo"]
    asked = sum(yahoo.calls.values())
    again = await _price(make_runtime(token=None), code="aapl", trade_date="20200615")
    assert again["close_raw"] == body["close_raw"] and sum(yahoo.calls.values()) > asked  # a new home: new fetch


async def test_repeated_global_calls_are_served_from_the_store(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    rt = make_runtime()
    await _price(rt, code="AAPL", trade_date="2020-06-15")
    charts = len(yahoo.charts("AAPL"))
    for _ in range(5):
        await _price(rt, code="AAPL", trade_date="2020-06-15")
    assert len(yahoo.charts("AAPL")) == charts


async def test_latest_aapl_bar_without_a_date(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    body = await _price(make_runtime(), code="AAPL")
    assert body["trade_date"] == "2021-12-30"  # the fixture's newest bar, long before the test clock


async def test_unknown_global_ticker_is_a_parameter_error(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    error = error_of(await call(make_runtime(), "price", code="NOSUCHTICKER"))
    assert error["category"] == "PARAMETER" and error["argument"] == "code"
    assert [a["outcome"] for a in error["attempts"] if a["provider"] == "yahoo"] == ["NoData"]


async def test_a_weekend_names_the_friday(make_runtime: RuntimeFactory, yahoo: FakeYahoo) -> None:
    error = error_of(await call(make_runtime(), "price", code="AAPL", trade_date="2020-06-13"))
    assert error["category"] == "PARAMETER" and "2020-06-12" in error["message"]
