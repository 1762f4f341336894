"""The catalog tools: tushare's interfaces found, described and asked through the real SDK.

The catalog is the shipped catalog.json (built from tushare's documentation pages; three of them
are in tests/fixtures/tushare_catalog and are parsed here). Questions go to the tushare stand-in,
which serves real `trade_cal` (SSE 2016-2025) and `daily_basic` (600519.SH and two others,
2023-09-25..2025-10-23) rows, pages by `offset`/`limit`, and answers tushare's recorded 40203
no-permission response for the apis named in `refused`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from providers.tushare import catalog, catalog_build
from tests.conftest import RuntimeFactory
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
PAGES = Path(__file__).parent / "fixtures" / "tushare_catalog"


def body_of(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    body: dict[str, Any] = result.structured_content
    return body


def test_the_docs_pages_parse_into_the_shipped_catalog() -> None:
    shipped = {e["name"]: e for e in json.loads(catalog_build.OUT.read_text(encoding="utf-8"))["interfaces"]}
    for name, api in (("index_28.md", "trade_cal"), ("index_29.md", "daily"), ("index_34.md", "daily_basic")):
        entry = catalog_build.page((PAGES / name).read_text(encoding="utf-8"))
        assert entry is not None and entry["name"] == api
        assert entry["params"] == shipped[api]["params"][: len(entry["params"])], api
        assert entry["fields"] == shipped[api]["fields"][: len(entry["fields"])], api
    basic = catalog_build.page((PAGES / "index_34.md").read_text(encoding="utf-8"))
    assert basic is not None and (basic["doc_id"], basic["points"], basic["title"]) == (32, 2000, "每日指标")
    units = {f[0]: f[4] for f in basic["fields"]}
    assert units["total_mv"] == "万元" and units["turnover_rate"] == "%" and units["total_share"] == "万股"
    assert units["pe"] is None  # 市盈率（总市值/净利润， 亏损的PE为空）: words, not a unit
    assert basic["params"][0] == ["ts_code", "str", True, "股票代码（二选一）"]
    daily = catalog_build.page((PAGES / "index_29.md").read_text(encoding="utf-8"))
    assert daily is not None and daily["row_cap"] == 6000  # 调取说明：…每次6000条数据


def test_the_catalog_says_where_it_comes_from() -> None:
    found = catalog.load()
    assert len(found.interfaces) == 250 and sum(i.documented for i in found.interfaces.values()) == 233
    repos = {s["repo"]: s["commit"] for s in found.sources}
    assert repos == {"zizhi258/TradingAgents-CN": "51af42e4fff91497ae5fe60b82dc4acddd577312",
                     "waditu-tushare/skills": "b68d5517e0cbe84d61774de26ad366d900c7eb92"}  # fmt: skip
    trade_cal = found.get("trade_cal")
    assert trade_cal.also_doc_ids == (137,) and trade_cal.category == "股票数据,基础数据"


async def test_catalog_search_in_chinese_and_english(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime()
    pe = body_of(await call(rt, "tushare_catalog", query="市盈率"))
    assert "daily_basic" in [r["name"] for r in pe["results"]] and len(pe["results"]) <= 20
    calendar = body_of(await call(rt, "tushare_catalog", query="calendar"))
    assert "trade_cal" in [r["name"] for r in calendar["results"]]
    flows = body_of(await call(rt, "tushare_catalog", query="资金流向"))
    assert flows["results"][0]["name"] == "moneyflow"
    entry = next(r for r in pe["results"] if r["name"] == "daily_basic")
    said = (
        "获取全部股票每日重要的基本面指标，可用于选股分析、报表展示等。"
        "单次请求最大返回6000条数据，可按日线循环提取全部历史。"
    )
    assert len(said) < 80  # a description up to 80 characters is not cut
    assert entry == {"name": "daily_basic", "title": "每日指标", "category": "股票数据,行情数据", "description": said,
                     "points": 2000}  # fmt: skip
    everything = body_of(await call(rt, "tushare_catalog"))
    assert everything["matches"] == 250 and "daily_basic" in everything["categories"]["股票数据"]
    assert "zizhi258/TradingAgents-CN@51af42e4fff9" in everything["source"]
    assert everything["cite"]["source"] == "tushare_docs" and everything["cite"]["fetched_at"].startswith("2025-08-09")
    nothing = body_of(await call(rt, "tushare_catalog", query="zzzz"))
    assert (nothing["matches"], nothing["results"]) == (0, [])
    assert sum(upstream.calls.values()) == 0  # the catalog is shipped: no upstream request


async def test_describe_names_types_required_units_and_points(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    body = body_of(await call(rt, "tushare_describe", api_name="daily_basic"))
    assert (body["points"], body["documented"], body["doc_url"]) == (
        2000, True, "https://tushare.pro/document/2?doc_id=32")  # fmt: skip
    first = {"name": "ts_code", "type": "str", "required": True, "description": "股票代码（二选一）"}
    assert body["params"][0] == first
    fields = {f["name"]: f for f in body["fields"]}
    total_mv = {"name": "total_mv", "type": "float", "default": True, "description": "总市值 （万元）", "unit": "万元"}
    assert fields["total_mv"] == total_mv
    assert fields["pe_ttm"]["unit"] is None
    wrong = error_of(await call(rt, "tushare_describe", api_name="daily_basics"))
    assert wrong["category"] == "PARAMETER" and wrong["argument"] == "api_name"
    assert "daily_basic" in wrong["remedy"]


async def test_query_reaches_an_interface_with_units_dates_and_a_raw_copy(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime()
    result = await call(rt, "tushare_query", api_name="daily_basic",
                        params={"ts_code": "600519.SH", "start_date": "20240102", "end_date": 20240103},
                        fields=["ts_code", "trade_date", "pe_ttm", "total_mv"])  # fmt: skip
    body = body_of(result)
    assert body["columns"] == ["ts_code", "trade_date", "pe_ttm", "total_mv"]
    assert body["rows"] == [["600519.SH", "2024-01-03", 29.8906, 212799907.32],
                            ["600519.SH", "2024-01-02", 29.732, 211670585.4978]]  # fmt: skip
    assert body["units"] == {"total_mv": "ten_thousand_CNY"} and body["row_count"] == 2
    assert body["params"] == {"ts_code": "600519.SH", "start_date": "20240102", "end_date": "20240103"}
    assert (body["pages"], body["complete"], body["summary"], body["full_result"]) == (1, True, None, None)
    cite = body["cite"]
    assert (cite["source"], cite["layer"], cite["source_chain"]) == ("tushare", "raw", ["tushare"])
    assert upstream.calls["daily_basic"] == 1
    stored = rt.store.query("SELECT source, api_name, item_count, params, request_id FROM raw_payloads WHERE id = ?",
                            (body["raw_id"],))  # fmt: skip
    source, api, count, params, request_id = stored[0]
    assert (source, api, count, request_id) == ("tushare", "daily_basic", 2, cite["tool_call_id"])
    assert json.loads(params)["fields"] == "ts_code,trade_date,pe_ttm,total_mv"


async def test_query_pages_past_the_row_cap(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime(catalog_page_rows=100)
    year = {"exchange": "SSE", "start_date": "20240101", "end_date": "20241231"}
    body = body_of(await call(rt, "tushare_query", api_name="trade_cal", params=year))
    assert (body["row_count"], body["pages"], body["complete"]) == (366, 4, True)
    assert upstream.calls["trade_cal"] == 4
    assert body["columns"] == ["exchange", "cal_date", "is_open", "pretrade_date"]
    assert body["rows"][0][:2] == ["SSE", "2024-12-31"] and body["rows"][-1][:2] == ["SSE", "2024-01-01"]
    assert body["rows"][-2] == ["SSE", "2024-01-02", 1, "2023-12-29"]
    assert len({row[1] for row in body["rows"]}) == 366  # no page repeated or lost
    (count,) = rt.store.query("SELECT item_count FROM raw_payloads WHERE id = ?", (body["raw_id"],))[0]
    assert count == 366
    bounded = make_runtime(catalog_page_rows=100, catalog_max_pages=2)
    cut = body_of(await call(bounded, "tushare_query", api_name="trade_cal", params=year))
    assert (cut["row_count"], cut["pages"], cut["complete"]) == (200, 2, False)
    assert "stopped after 2 pages of 100 rows" in cut["cite"]["warnings"][0]


async def test_a_long_answer_comes_as_a_summary_and_its_whole_result(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime()  # trade_cal's docs state no row cap: pages of 1,000 rows
    decade = {"exchange": "SSE", "start_date": "20160101", "end_date": "20251231"}
    body = body_of(await call(rt, "tushare_query", api_name="trade_cal", params=decade))
    assert (body["row_count"], body["pages"], body["complete"]) == (3653, 4, True)
    assert upstream.calls["trade_cal"] == 4
    assert body["full_result"] is not None and 0 < len(body["rows"]) < 3653
    assert body["summary"]["row_count"] == 3653
    assert body["rows"][0] == ["SSE", "2025-12-31", 1, "2025-12-30"]


async def test_query_is_checked_before_it_costs_a_request(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime()
    cases: list[tuple[dict[str, Any], str, tuple[str, ...]]] = [
        ({"api_name": "trade_call"}, "api_name", ("trade_cal",)),
        ({"api_name": "trade_cal", "params": {"exchang": "SSE"}}, "params", ("exchange, start_date, end_date",)),
        ({"api_name": "trade_cal", "params": {"limit": 10}}, "params", ("pages are asked for you",)),
        ({"api_name": "trade_cal", "params": {"start_date": 2024.5}}, "params", ("start_date is a str",)),
        ({"api_name": "trade_cal", "params": {"start_date": True}}, "params", ("start_date is a str",)),
        ({"api_name": "trade_cal", "params": {"exchange": ["SSE"]}}, "params", ("exchange is a str",)),
        ({"api_name": "trade_cal", "fields": ["cal_date", "close"]}, "fields", ("'close'", "pretrade_date")),
    ]
    for arguments, argument, words in cases:
        error = error_of(await call(rt, "tushare_query", **arguments))
        assert (error["category"], error["argument"]) == ("PARAMETER", argument), (arguments, error)
        text = error["message"] + " " + error["remedy"]
        assert all(w in text for w in words), (arguments, error)
    assert sum(upstream.calls.values()) == 0


async def test_no_permission_names_the_points_the_docs_ask(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.refused.add("daily_basic")
    rt = make_runtime()
    error = error_of(await call(rt, "tushare_query", api_name="daily_basic", params={"ts_code": "600519.SH"}))
    assert error["category"] == "AUTH" and "没有接口访问权限" in error["message"]
    assert "daily_basic needs at least 2000 tushare points" in error["remedy"]
    assert error["attempts"][0]["outcome"] == "PermissionDenied"
    assert upstream.calls["daily_basic"] == 1  # a refusal is an answer: not retried


async def test_query_goes_through_the_guard_and_needs_a_token(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    upstream.fail_next = 1  # one HTTP 503: the guard retries it in place
    rt = make_runtime()
    week = {"exchange": "SSE", "start_date": "20240101", "end_date": "20240107"}
    body = body_of(await call(rt, "tushare_query", api_name="trade_cal", params=week))
    assert body["row_count"] == 7 and upstream.calls["trade_cal"] == 2
    missing = error_of(await call(make_runtime(token=None), "tushare_query", api_name="trade_cal", params=week))
    assert missing["category"] == "AUTH" and "TUSHARE_TOKEN" in missing["message"]
    assert upstream.calls["trade_cal"] == 2
