"""The series tools (index_daily, fund_nav, moneyflow, macro) through the real tushare SDK and akshare,
against the stand-ins serving real figures (tests/fixtures/tushare/README.md, tests/fixtures/eastmoney).

Each answer is rows over a window, in declared units, with one cite; a repeated window costs no upstream
call, a wider one asks only once more, and a macro month is asked again until it is settled.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from citation.attempts import Attempts
from providers.models import DATASETS
from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of, verdicts

pytestmark = pytest.mark.anyio
D = dt.date


async def rows_of(rt: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await call(rt, tool, **arguments)
    assert not result.is_error, result.content
    body: dict[str, Any] | None = result.structured_content
    assert body is not None
    cut = body["full_result"] is not None  # too long to send whole: the first rows inline (tests/test_sizing.py)
    assert len(body["rows"]) == (body["full_result"]["rows_inline"] if cut else body["row_count"])
    assert body["cite"]["tool_call_id"].startswith("tc_") and body["cite"]["receipt"]["alg"] == "Ed25519"
    return body


def by_date(body: dict[str, Any], date_column: str = "trade_date") -> dict[str, dict[str, Any]]:
    columns = body["columns"]
    return {row[columns.index(date_column)]: dict(zip(columns, row, strict=True)) for row in body["rows"]}


async def test_index_bars_in_points_with_units_and_one_cite(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "index_daily", code="000300", start="2025-10-01", end="20251023")
    assert body["ts_code"] == "000300.SH" and (body["start"], body["end"]) == ("2025-10-01", "2025-10-23")
    day = by_date(body)["2025-10-23"]
    assert (day["close"], day["open"], day["pre_close"], day["vol"]) == (4606.3447, 4578.7018, 4592.57, 200463917.0)
    assert body["units"] == {"open": "index_points", "high": "index_points", "low": "index_points",
                             "close": "index_points", "pre_close": "index_points", "vol": "lots_100shares",
                             "amount": "thousand_CNY"}  # fmt: skip
    assert (
        list(by_date(body)) == sorted(by_date(body)) and len(body["rows"]) == 11
    )  # October after the National Day holiday
    assert "close" in body["date_meaning"] and body["cite"]["source"] == "tushare"
    # the stand-in's real index_basic rows are 13 Shenwan indexes: 沪深300 has no name there, and the answer says so
    assert body["name"] is None and any("index_basic" in w for w in body["cite"]["warnings"])
    assert (upstream.calls["index_daily"], upstream.calls["index_basic"]) == (1, 1)
    again = await rows_of(rt, "index_daily", code="000300.SH", start="20251010", end="20251023")
    assert len(again["rows"]) == 10 and upstream.calls["index_daily"] == 1  # inside what was asked: the warehouse
    assert upstream.calls["index_basic"] == 1


async def test_a_long_index_window_is_summarised_and_a_wider_one_asks_once_more(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "index_daily", code="000300.SH", start="20240101", end="20251023")
    assert body["row_count"] == 436 and body["summary"]["numbers"]["close"]["latest"] == 4606.3447
    assert upstream.calls["index_daily"] == 1
    wider = await rows_of(rt, "index_daily", code="000300.SH", start="20230901", end="20251023")
    # 500 bars are too long to send whole (mcp_server.sizing): the first rows, a summary of all, a resource.
    assert wider["row_count"] == 500 and wider["full_result"] is not None and len(wider["rows"]) < 500
    facts = wider["summary"]
    assert (facts["first_date"], facts["last_date"]) == ("2023-09-25", "2025-10-23")
    assert facts["numbers"]["close"]["first"] == 3714.6037 and facts["numbers"]["close"]["latest"] == 4606.3447
    assert upstream.calls["index_daily"] == 2


async def test_the_shanghai_composite_from_a_real_wire_answer(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    body = await rows_of(rt, "index_daily", code="000001.SH", start="20190329", end="20190329")
    assert by_date(body)["2019-03-29"]["close"] == 3090.758 and by_date(body)["2019-03-29"]["amount"] == 386699608.7


async def test_index_bad_input_and_an_empty_window_are_parameter_errors(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    unknown = error_of(await call(rt, "index_daily", code="399006.SZ", start="20240101", end="20240131"))
    assert unknown["category"] == "PARAMETER" and "399006.SZ" in unknown["message"]
    backwards = error_of(await call(rt, "index_daily", code="000300.SH", start="20240201", end="20240101"))
    assert backwards["argument"] == "start"
    ticker = error_of(await call(rt, "index_daily", code="AAPL", start="20240101"))
    assert ticker["argument"] == "code"


async def test_fund_bars_with_factors_and_name(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "fund_nav", code="510300", start="20240115", end="20240119")
    assert body["ts_code"] == "510300.SH" and body["name"] == "沪深300ETF"
    days = by_date(body)
    # 2024-01-18 is a distribution day: the factor steps and pre_close is not the day before's close
    assert [days[d]["adj_factor"] for d in sorted(days)] == [1.182, 1.182, 1.182, 1.208, 1.208]
    assert days["2024-01-17"]["close"] != days["2024-01-18"]["pre_close"]
    for row in days.values():
        assert row["close_hfq"] == round(row["close"] * row["adj_factor"], 4)
    assert body["units"]["close"] == "CNY" and body["units"]["adj_factor"] == "ratio"
    assert body["units"]["vol"] == "lots_100shares" and body["units"]["amount"] == "thousand_CNY"
    assert any("not net asset values" in w for w in body["cite"]["warnings"])
    calls = (upstream.calls["fund_daily"], upstream.calls["fund_adj"], upstream.calls["fund_basic"])
    assert calls == (1, 1, 1)
    other = await rows_of(rt, "fund_nav", code="510500.SH", start="20240517", end="20240517")
    assert other["name"] == "中证500ETF" and other["row_count"] == 1


async def test_fund_bars_answer_without_factors_when_tushare_refuses_them(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    attempts = Attempts()
    await rt.series.window(DATASETS["fund_daily"], "510300.SH", D(2024, 1, 15), D(2024, 1, 19), attempts, None)
    upstream.mode = "no_permission"  # the bars are stored; the factors and the name need upstream, which refuses
    body = await rows_of(rt, "fund_nav", code="510300.SH", start="20240115", end="20240119")
    assert body["row_count"] == 5 and {row[-2:] == [None, None] for row in body["rows"]} == {True}
    assert body["name"] is None
    warnings = body["cite"]["warnings"]
    assert any("adjustment factors unavailable" in w for w in warnings), warnings
    assert any("fund descriptions unavailable" in w for w in warnings), warnings


async def test_moneyflow_in_ten_thousand_cny(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2026, 4, 16)
    rt = make_runtime()
    body = await rows_of(rt, "moneyflow", code="600519", start="20260301", end="20260415")
    days = by_date(body)
    assert sorted(days) == ["2026-03-20", "2026-04-01", "2026-04-15"]
    day = days["2026-04-15"]
    assert (day["buy_sm_amount"], day["sell_elg_amount"], day["net_mf_amount"], day["net_mf_vol"]) == (
        251.79, 100026.1, 60656.1, 4147.0)  # fmt: skip
    assert body["units"]["net_mf_amount"] == "ten_thousand_CNY" and body["units"]["net_mf_vol"] == "lots_100shares"
    assert "ts_code" not in body["columns"] and body["ts_code"] == "600519.SH"
    assert upstream.calls["moneyflow"] == 1


async def test_macro_cpi_from_tushare_first(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare, eastmoney: FakeEastmoney
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "macro", series="cpi", start="20250101", end="20250930")
    months = by_date(body, "period")
    assert sorted(months) == [f"2025-{m:02d}-01" for m in range(1, 10)]
    assert (months["2025-09-01"]["value"], months["2025-09-01"]["yoy"], months["2025-09-01"]["mom"]) == (
        99.7,
        -0.3,
        0.1,
    )
    assert body["units"] == {"value": "index", "yoy": "percent", "mom": "percent"}
    assert "published" in body["date_meaning"] and body["cite"]["source"] == "tushare"
    assert upstream.calls["cn_cpi"] == 1 and eastmoney.calls["/api/data/v1/get"] == 0
    await rows_of(rt, "macro", series="cpi", start="20250101", end="20250930")
    assert upstream.calls["cn_cpi"] == 1  # asked within the day: the warehouse answers
    clock.set(2025, 10, 26)
    await rows_of(rt, "macro", series="cpi", start="20250101", end="20250930")
    assert upstream.calls["cn_cpi"] == 2  # September's figure may still be revised: asked again after a day
    clock.set(2025, 10, 29)
    await rows_of(rt, "macro", series="cpi", start="20250101", end="20250630")
    assert upstream.calls["cn_cpi"] == 2  # months 75 days past their start when asked are settled


async def test_macro_ppi_from_tushare_has_no_index_level_and_pmi_falls_back_to_akshare(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare, eastmoney: FakeEastmoney
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    ppi = by_date(await rows_of(rt, "macro", series="PPI", start="20250915", end="20250930"), "period")
    assert ppi["2025-09-01"] == {"period": "2025-09-01", "value": None, "yoy": -2.3, "mom": 0.0}
    pmi = await rows_of(rt, "macro", series="pmi", start="20240101", end="20240331")
    assert by_date(pmi, "period")["2024-03-01"]["value"] == 50.8 and pmi["cite"]["source"] == "akshare"
    assert [a["outcome"] for a in pmi["cite"]["attempts"] if a["provider"] == "tushare"] == ["NoData"]


async def test_macro_without_a_token_is_akshare_and_bad_series_is_a_parameter_error(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime(token=None)
    cpi = by_date(await rows_of(rt, "macro", series="cpi", start="20240101", end="20240229"), "period")
    assert (cpi["2024-02-01"]["value"], cpi["2024-02-01"]["yoy"], cpi["2024-02-01"]["mom"]) == (100.7, 0.7, 1.0)
    wrong = error_of(await call(rt, "macro", series="gdp"))
    assert wrong["category"] == "PARAMETER" and wrong["argument"] == "series" and "cpi, ppi, pmi" in wrong["remedy"]


async def test_fund_bars_from_eastmoney_without_a_token(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime(token=None)  # akshare's fund_etf_hist_em against the Eastmoney stand-in (real output)
    body = await rows_of(rt, "fund_nav", code="510300", start="20240115", end="20240119")
    assert body["cite"]["source"] == "akshare"
    days = by_date(body)
    assert [days[d]["close"] for d in sorted(days)] == [3.345, 3.367, 3.292, 3.268, 3.275]  # = tushare's closes
    distribution = days["2024-01-18"]
    assert (distribution["vol"], distribution["amount"]) == (47543511, 15257021.704)  # lots; CNY / 1000
    assert distribution["pre_close"] == 3.292  # Eastmoney's undivided previous close (tushare: 3.223)
    assert any("adjustment factors unavailable" in w for w in body["cite"]["warnings"])


async def test_money_supply_in_hundred_million_cny_and_verified(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "macro", series="m2", start="20240101", end="20241231")
    assert body["units"] == {"value": "hundred_million_CNY", "yoy": "percent", "mom": "percent"}
    december = by_date(body, "period")["2024-12-01"]
    assert (december["value"], december["yoy"], december["mom"]) == (3135322.3, 7.3, 0.5)  # tushare cn_m 202412
    assert body["row_count"] == 12 and upstream.calls["cn_m"] == 1 and "亿元" in body["definition"]
    tc = body["cite"]["tool_call_id"]
    assert await verdicts(rt, f"2024年12月末M2余额313.53万亿元，同比增长7.3% [{tc}]") == ["verified", "verified"]
    await rows_of(rt, "macro", series="m2", start="20250901", end="20250930")
    assert upstream.calls["cn_m"] == 2  # 2024 was settled; September 2025 was not yet asked
    clock.set(2025, 10, 26)
    await rows_of(rt, "macro", series="m2", start="20250901", end="20250930")
    assert upstream.calls["cn_m"] == 3  # a month asked within 75 days of its start is asked again after a day


async def test_shibor_fixings_by_tenor_in_percent(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    body = await rows_of(rt, "macro", series="shibor", start="20241225", end="20241231")
    assert body["columns"] == ["date", "overnight", "w1", "w2", "m1", "m3", "m6", "m9", "y1"]
    assert set(body["units"].values()) == {"percent"} and "11:00" in body["date_meaning"]
    last = by_date(body, "date")["2024-12-31"]
    assert (last["overnight"], last["m3"], last["y1"]) == (1.454, 1.6855, 1.708)  # tushare shibor, 20241231
    assert upstream.calls["shibor"] == 1
    tc = body["cite"]["tool_call_id"]
    assert await verdicts(rt, f"2024-12-31 隔夜Shibor 1.454% [{tc}]") == ["verified"]


async def test_social_financing_increments_and_stock_in_the_sources_units(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 11, 20)
    rt = make_runtime()
    body = await rows_of(rt, "macro", series="sf", start="20250701", end="20250930")
    assert body["columns"] == ["period", "inc_month", "inc_cumval", "stk_endval"]
    assert body["units"] == {"inc_month": "hundred_million_CNY", "inc_cumval": "hundred_million_CNY",
                             "stk_endval": "trillion_CNY"}  # fmt: skip
    september = by_date(body, "period")["2025-09-01"]
    assert (september["inc_month"], september["inc_cumval"], september["stk_endval"]) == (35296.0, 300851.0, 437.08)
    assert body["row_count"] == 3 and upstream.calls["sf_month"] == 1
    await rows_of(rt, "macro", series="sf", start="20250701", end="20250930")
    assert upstream.calls["sf_month"] == 1  # months settled (over 75 days old) are read from the warehouse
    tc = body["cite"]["tool_call_id"]
    text = f"2025年9月末社会融资规模存量 437.08万亿元，当月增量 3.53万亿元，前三季度累计 30.09万亿元 [{tc}]"
    assert await verdicts(rt, text) == ["verified"] * 3


async def test_an_upstream_months_behind_is_said_to_be_behind(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    """The stand-in's newest month is 2025-09 and its newest 沪深300 bar 2025-10-23: asked in December 2026,
    the rows are answered (they are the newest the source has) with how far behind they are."""
    clock.set(2026, 12, 1)
    rt = make_runtime()
    cpi = await rows_of(rt, "macro", series="cpi")
    assert max(by_date(cpi, "period")) == "2025-09-01"
    assert any("2025-09, 12 months before 2026-09" in w and "behind" in w for w in cpi["cite"]["warnings"])
    index = await rows_of(rt, "index_daily", code="000300", start="2025-10-01")
    assert any("of 2025-10-23, 404 days before the trading day 2026-12-01" in w for w in index["cite"]["warnings"])
    shibor = await rows_of(rt, "macro", series="shibor", start="2025-10-01")
    assert any("of 2025-10-23, 404 days before the trading day 2026-12-01" in w for w in shibor["cite"]["warnings"])
    clock.set(2025, 10, 24)  # when these were the newest anyone could have: nothing is said
    current = make_runtime()
    cpi = await rows_of(current, "macro", series="cpi", start="20250101")
    index = await rows_of(current, "index_daily", code="000300", start="2025-10-01", end="2025-10-23")
    shibor = await rows_of(current, "macro", series="shibor", start="2025-10-01", end="2025-10-23")
    for body in (cpi, index, shibor):
        assert not any("behind" in w for w in body["cite"]["warnings"]), body["cite"]["warnings"]
