"""The sets tools (dividends, holders, forecasts, index_members, industry) through the real tushare SDK
against the stand-in's real figures (tests/fixtures/tushare/README.md), point in time.

What the figures allow: 600000.SH's dividends (5 stage rows) and top 10 lists (2020Q1..Q3), holder
counts of 600519.SH, four 2018 forecasts of other codes, 600000.SH's FY2017 express, the CSI 300's
weights on 7 dates (under 399300.SZ), the 28 SW2014 L1 industries and 600519.SH's membership.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio


def rows_of(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert body is not None
    assert body["row_count"] == len(body["rows"])
    return [dict(zip(body["columns"], row, strict=True)) for row in body["rows"]]


async def answered(rt: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await call(rt, tool, **arguments)
    assert not result.is_error, result.content
    body: dict[str, Any] | None = result.structured_content
    assert body is not None and body["cite"]["tool_call_id"].startswith("tc_") and body["cite"]["receipt"]
    assert "cite" not in json.dumps(body["rows"])  # one cite per answer, none per row
    return body


async def test_dividends_each_stage_from_when_it_was_public(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 6, 30)
    rt = make_runtime()
    body = await answered(rt, "dividends", code="600000")
    rows = rows_of(body)
    assert [(r["end_date"], r["div_proc"], r["cash_div_tax"]) for r in rows] == [
        ("2024-12-31", "预案", 0.41), ("2024-06-30", "预案", 0.0), ("2023-12-31", "实施", 0.321),
        ("2023-12-31", "股东大会通过", 0.321), ("2023-12-31", "预案", 0.321),
    ]  # fmt: skip
    done = rows[2]
    assert (done["record_date"], done["ex_date"], done["pay_date"], done["cash_div"]) == (
        "2024-07-17", "2024-07-18", "2024-07-18", 0.321)  # fmt: skip
    assert (done["ann_date"], done["imp_ann_date"], done["known_date"]) == ("2024-04-30", "2024-07-11", "2024-07-11")
    assert rows[3]["known_date"] == "2024-07-11"  # an approval carries no date: dated by the implementation's
    assert body["units"]["cash_div_tax"] == "CNY_per_share" and body["units"]["stk_div"] == "shares_per_share"
    assert body["cite"]["source"] == "tushare" and upstream.calls["dividend"] == 1
    # the day before the implementation announcement: only the plan, without its record and ex dates
    before = rows_of(await answered(rt, "dividends", code="600000.SH", as_of="2024-07-10"))
    assert [(r["end_date"], r["div_proc"], r["ex_date"]) for r in before] == [("2023-12-31", "预案", None)]
    assert upstream.calls["dividend"] == 1  # answered from the warehouse
    on_the_day = rows_of(await answered(rt, "dividends", code="600000.SH", as_of="20240711"))
    assert [r["div_proc"] for r in on_the_day] == ["实施", "股东大会通过", "预案"]
    nothing = await answered(rt, "dividends", code="600000.SH", as_of="2024-04-29")
    assert nothing["row_count"] == 0 and "no dividend" in nothing["cite"]["warnings"][0]
    assert rt.store.query("SELECT count(*) FROM raw_payloads WHERE api_name = 'dividend'") == [(1,)]


async def test_holders_of_the_newest_period_announced(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2021, 1, 15)
    rt = make_runtime()
    body = await answered(rt, "holders", code="600000")
    rows = rows_of(body)
    assert (body["period"], body["period_kind"], body["ann_date"], body["float_ann_date"]) == (
        "2020-09-30", "Q3", "2020-10-31", "2020-10-31")  # fmt: skip
    assert [r["list"] for r in rows] == ["top10"] * 10 + ["float_top10"] * 10
    first = rows[0]
    assert (first["holder_name"], first["hold_amount"], first["hold_ratio"]) == ("上海国际集团有限公司", 6331322671.0,
                                                                               21.5702)  # fmt: skip
    assert [r["hold_amount"] for r in rows[:10]] == sorted((r["hold_amount"] for r in rows[:10]), reverse=True)
    assert body["units"] == {"hold_amount": "shares", "hold_ratio": "percent", "hold_float_ratio": "percent",
                             "hold_change": "shares"}  # fmt: skip
    assert body["holder_count"] is None and any("holder counts" in w for w in body["cite"]["warnings"])
    # announced 2020-10-31: the day before, the newest known lists are H1's
    earlier = await answered(rt, "holders", code="600000", as_of="2020-10-30")
    assert (earlier["period"], earlier["ann_date"]) == ("2020-06-30", "2020-08-29")
    named = error_of(await call(rt, "holders", code="600000", period="20200930", as_of="2020-10-30"))
    assert named["category"] == "PARAMETER" and named["argument"] == "period" and "2020-10-31" in named["message"]
    q1 = await answered(rt, "holders", code="600000", period="2020-03-31")
    assert (q1["period"], q1["period_kind"], q1["ann_date"]) == ("2020-03-31", "Q1", "2020-04-25")


async def test_holder_count_point_in_time_with_re_announcements(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    """600519.SH announced its 2024-12-31 and 2025-03-31 counts on 2025-04-03, and 2025-03-31's again on
    2025-04-30; its top 10 lists are not in the figures, which the answer says."""
    clock.set(2025, 10, 1)
    rt = make_runtime()
    counts = {}
    for as_of in ("2025-04-02", "2025-04-03", "2025-05-01", None):
        body = await answered(rt, "holders", code="600519", **({"as_of": as_of} if as_of else {}))
        assert body["row_count"] == 0 and any("top 10 holders" in w for w in body["cite"]["warnings"])
        count = body["holder_count"]
        counts[as_of] = (count["end_date"], count["ann_date"], count["holder_num"], count["unit"])
    assert counts == {
        "2025-04-02": ("2024-09-30", "2024-10-26", 201582.0, "count"),
        "2025-04-03": ("2025-03-31", "2025-04-03", 192430.0, "count"),
        "2025-05-01": ("2025-03-31", "2025-04-30", 192430.0, "count"),
        None: ("2025-06-30", "2025-08-13", 220658.0, "count"),
    }
    stored = rt.store.query("SELECT count(*) FROM norm_stk_holdernumber WHERE ts_code = '600519.SH'")
    # the 10 rows announced since 2023-09-30 (550 days before the first as_of), re-announcements kept
    assert stored == [(10,)]


async def test_forecast_and_express_known_by_their_announcements(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2019, 6, 30)
    rt = make_runtime()
    body = await answered(rt, "forecasts", code="300511.SZ")
    (row,) = rows_of(body)
    assert (body["period"], body["ann_date"], row["type"]) == ("2018-12-31", "2019-01-31", "略增")
    assert (row["p_change_min"], row["p_change_max"], row["net_profit_min"], row["net_profit_max"]) == (
        10.29, 39.7, 13500.0, 17100.0)  # fmt: skip
    assert body["units"]["net_profit_min"] == "ten_thousand_CNY" and body["units"]["p_change_max"] == "percent"
    assert body["express"] is None and any("express" in w for w in body["cite"]["warnings"])
    before = error_of(await call(rt, "forecasts", code="300511.SZ", as_of="2019-01-30"))
    assert before["category"] == "PARAMETER" and "2019-01-30" in before["message"]
    clock.set(2018, 6, 30)
    spdb = await answered(make_runtime(), "forecasts", code="600000")
    assert spdb["row_count"] == 0 and spdb["period"] is None
    express = spdb["express"]
    values = dict(zip(express["columns"], express["rows"][0], strict=True))
    assert (express["period"], express["ann_date"]) == ("2017-12-31", "2018-01-06")
    assert (values["revenue"], values["n_income"], values["diluted_eps"]) == (168619000000.0, 54240000000.0, 1.84)
    assert express["units"]["revenue"] == "CNY" and express["units"]["diluted_roe"] == "percent"


async def test_index_members_on_the_newest_weight_date_on_or_before(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2024, 12, 31)
    rt = make_runtime()
    body = await answered(rt, "index_members", index_code="000300.SH", date="2023-12-29")
    rows = rows_of(body)
    assert (body["index_code"], body["rows_under"], body["trade_date"]) == ("000300.SH", "399300.SZ", "2023-12-29")
    assert body["row_count"] == 300 and body["units"] == {"weight": "percent"}
    weights = {r["con_code"]: r["weight"] for r in rows}
    assert weights["600519.SH"] == 6.239 and rows[0]["con_code"] == "600519.SH"  # the largest first
    assert 99.98 < sum(weights.values()) < 100.02
    assert body["cite"]["warnings"] == []
    between = await answered(rt, "index_members", index_code="399300.SZ", date="20230630")
    assert between["trade_date"] == "2022-12-30" and between["rows_under"] == "399300.SZ"
    assert {r["con_code"]: r["weight"] for r in rows_of(between)}["600519.SH"] == 5.815
    assert "2022-12-30" in between["cite"]["warnings"][0]
    before = error_of(await call(rt, "index_members", index_code="399300", date="2019-06-30"))
    assert before["category"] == "PARAMETER" and before["argument"] == "date" and "2019-06-30" in before["message"]
    bad = error_of(await call(rt, "index_members", index_code="沪深300"))
    assert bad["category"] == "PARAMETER" and bad["argument"] == "index_code"
    assert len(json.dumps(body, ensure_ascii=False)) < 16_000


async def test_industry_of_a_stock_and_of_a_shenwan_index(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime()
    body = await answered(rt, "industry", code="600519")
    assert [(r["level"], r["index_code"], r["industry_name"]) for r in rows_of(body)] == [
        ("L1", "801120.SI", "食品饮料"), ("L2", "801125.SI", "白酒Ⅱ"), ("L3", "851251.SI", "白酒Ⅲ")]  # fmt: skip
    assert (body["code"], body["name"], body["in_date"], body["out_date"]) == (
        "600519.SH", "贵州茅台", "2001-07-31", None)  # fmt: skip
    l1 = await answered(rt, "industry", code="801120.SI", src="SW2014")
    assert rows_of(l1) == [{"level": "L1", "index_code": "801120.SI", "industry_name": "食品饮料",
                            "industry_code": "340000", "parent_code": "0"}]  # fmt: skip
    missing = error_of(await call(rt, "industry", code="801120.SI"))  # the figures hold no SW2021 classification
    assert missing["category"] == "PARAMETER" and "SW2021" in missing["message"]
    wrong = error_of(await call(rt, "industry", code="801120.SI", src="SW1999"))
    assert wrong["category"] == "PARAMETER" and wrong["argument"] == "src"


@pytest.mark.parametrize("tool", ["dividends", "holders", "forecasts", "industry"])
async def test_bad_codes_are_parameter_errors(make_runtime: RuntimeFactory, upstream: FakeTushare, tool: str) -> None:
    error = error_of(await call(make_runtime(), tool, code="AAPL"))
    assert error["category"] == "PARAMETER" and error["argument"] == "code"
    assert sum(upstream.calls.values()) == 0


async def test_without_the_points_the_error_names_them(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "no_permission"
    refused = error_of(await call(make_runtime(), "index_members", index_code="399300.SZ"))
    assert refused["category"] == "AUTH" and "points" in refused["remedy"]
