"""The composer through the `price` tool: fallback order, failure classes, the attempt log,
cross-source agreement and throttling, with tushare and Eastmoney (akshare) stand-ins."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RuntimeFactory
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
DAY = "2024-06-20"


async def _price(rt: Any, code: str = "600519", day: str = DAY) -> dict[str, Any]:
    result = await call(rt, "price", code=code, trade_date=day)
    assert not result.is_error, result.content
    body: dict[str, Any] = result.structured_content or {}
    return body


def _outcomes(body: dict[str, Any], dataset: str = "daily") -> list[tuple[str, str]]:
    return [(a["provider"], a["outcome"]) for a in body["cite"]["attempts"] if a["dataset"] == dataset]


RAW = ("close_raw", "open_raw", "high_raw", "low_raw", "volume", "amount")


async def test_without_a_token_akshare_serves_tushares_raw_numbers(
    make_runtime: RuntimeFactory, upstream: FakeTushare, eastmoney: FakeEastmoney
) -> None:
    tushare = await _price(make_runtime())
    akshare = await _price(make_runtime(token=None))
    assert tushare["source"] == "tushare" and akshare["source"] == "akshare"
    assert {k: akshare[k] for k in RAW} == {k: tushare[k] for k in RAW}
    assert akshare["close_raw"] == 1500.1 and akshare["units"]["volume"] == "lots_100shares"
    assert _outcomes(akshare) == [("warehouse", "miss"), ("akshare", "ok")]
    assert all(r.get("fqt") == "0" for r in eastmoney.requests if r["path"].endswith("kline/get"))
    # Factors: akshare's chain moves by the same ratio as tushare's across the 2024-12 dividend.
    later = await _price(make_runtime(token=None), day="2024-12-31")
    ours = akshare["adj_factor"] / later["adj_factor"]
    theirs = tushare["adj_factor"] / (await _price(make_runtime(), day="2024-12-31"))["adj_factor"]
    assert ours == pytest.approx(theirs, rel=2e-4)
    assert akshare["close_qfq"] == pytest.approx(1500.1 * ours, rel=1e-6)  # akshare's latest bar is 2024-12-31


@pytest.mark.parametrize("mode", ["down", "rate_limit", "no_permission", "bad_json", "daily_limit"])
async def test_each_tushare_failure_falls_back_to_akshare(
    make_runtime: RuntimeFactory, upstream: FakeTushare, mode: str
) -> None:
    upstream.mode = mode
    body = await _price(make_runtime(upstream_tries=1))
    assert body["source"] == "akshare" and body["close_raw"] == 1500.1
    (first, outcome), second = _outcomes(body)[1], _outcomes(body)[2]
    assert first == "tushare" and outcome != "ok" and second == ("akshare", "ok")
    assert body["source_chain"] == ["warehouse", "tushare", "akshare"]


async def test_rejected_token_falls_back(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    body = await _price(make_runtime(token="wrong"))
    assert body["source"] == "akshare" and ("tushare", "AuthFailed") in _outcomes(body)


async def test_an_empty_answer_moves_on(make_runtime: RuntimeFactory, eastmoney: FakeEastmoney) -> None:
    eastmoney.mode = "empty"
    rt = make_runtime(provider_order={"daily": ["akshare", "tushare"]})
    body = await _price(rt)
    assert body["source"] == "tushare"
    assert _outcomes(body)[1:] == [("akshare", "empty"), ("tushare", "ok")]


async def test_everything_failing_lists_each_provider_and_the_server_stays_up(
    make_runtime: RuntimeFactory, upstream: FakeTushare, eastmoney: FakeEastmoney
) -> None:
    upstream.mode, eastmoney.mode = "rate_limit", "down"
    rt = make_runtime(upstream_tries=1)
    error = error_of(await call(rt, "price", code="600519", trade_date=DAY))
    assert error["category"] == "SERVICE"
    for name, why in (("tushare", "RateLimited"), ("akshare", "UpstreamUnavailable"), ("pytdx", "UpstreamUnavailable")):
        assert f"{name}: {why}" in error["message"]
        assert {"provider": name, "dataset": "daily", "outcome": why} in [
            {k: a[k] for k in ("provider", "dataset", "outcome")} for a in error["attempts"]
        ]
    assert not (await call(rt, "ping")).is_error
    upstream.mode, eastmoney.mode = None, None
    assert (await _price(rt))["source"] == "tushare"


async def test_all_throttled_is_rate_limit_with_the_shortest_wait(
    make_runtime: RuntimeFactory, upstream: FakeTushare, eastmoney: FakeEastmoney
) -> None:
    upstream.mode, eastmoney.mode = "rate_limit", "rate_limit"
    rt = make_runtime(provider_order={"daily": ["tushare", "akshare"]})
    error = error_of(await call(rt, "price", code="600519", trade_date=DAY))
    assert error["category"] == "RATE_LIMIT" and error["retry_after_seconds"] == 60


async def test_our_own_budget_throttles_before_upstream_does(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime(rate_limits={"tushare": 0.5}, provider_order={"daily": ["tushare"], "adj_factor": ["tushare"]})
    days = [f"2024-{m:02d}-15" for m in (1, 3, 5, 7, 11)] + ["2023-11-15", "2023-09-15", "2022-06-15"]
    errors = [error_of(r) for r in [await call(rt, "price", code="600519", trade_date=d) for d in days] if r.is_error]
    assert errors and errors[0]["category"] == "RATE_LIMIT" and errors[0]["retry_after_seconds"] >= 60
    assert "budget" in errors[0]["message"]
    assert sum(upstream.calls.values()) <= 10  # the burst, then nothing reaches upstream


async def test_breaker_opens_after_consecutive_failures(make_runtime: RuntimeFactory, eastmoney: FakeEastmoney) -> None:
    eastmoney.mode = "down"
    rt = make_runtime(token=None, upstream_tries=1, breaker_failures=2, provider_order={"daily": ["akshare"]})
    for day in ("2024-06-03", "2024-06-04"):
        assert error_of(await call(rt, "price", code="600519", trade_date=day))["category"] == "SERVICE"
    asked = sum(eastmoney.calls.values())
    error = error_of(await call(rt, "price", code="600519", trade_date="2024-06-05"))
    assert ("akshare", "CircuitOpen") in [(a["provider"], a["outcome"]) for a in error["attempts"]]
    assert sum(eastmoney.calls.values()) == asked  # refused without asking
    assert rt.composer.providers["akshare"].guard.breaker.state == "open"


async def test_sources_that_agree(make_runtime: RuntimeFactory, eastmoney: FakeEastmoney) -> None:
    body = await _price(make_runtime(cross_check=["akshare"]))
    check = body["cite"]["cross_check"]
    assert body["source"] == "tushare"
    assert check == {"values": {"tushare": 1500.1, "akshare": 1500.1}, "diff_pct": 0.0, "agreement": True,
                     "field": "close"}  # fmt: skip
    assert not body["cite"]["warnings"]


async def test_sources_that_disagree_are_logged_once_and_the_primary_is_served(
    make_runtime: RuntimeFactory, eastmoney: FakeEastmoney
) -> None:
    eastmoney.mode = "skewed"
    rt = make_runtime(cross_check=["akshare"])
    body = await _price(rt)
    check = body["cite"]["cross_check"]
    assert body["source"] == "tushare" and body["close_raw"] == 1500.1
    assert check["agreement"] is False and check["values"]["akshare"] == pytest.approx(1507.6, abs=0.01)
    assert check["diff_pct"] == pytest.approx(0.5, abs=0.01)
    assert any("disagree" in w for w in body["cite"]["warnings"])
    await _price(rt)
    logged = rt.store.query("SELECT rule, severity, ts_code, sources FROM quality_log")
    assert logged == [("cross_source_agreement", "warning", "600519.SH", "akshare,tushare")]
