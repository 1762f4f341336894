"""`lookup`: codes for names, abbreviations, pinyin initials and codes, from the real listing.

The stand-in serves tushare's real `stock_basic` of 2026 (5,524 listed codes, with tushare's own
`cnspell` initials; tests/fixtures/tushare/README.md). The first lookup on an empty warehouse
fetches the listing whole, once; later lookups answer from the warehouse.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio


def matches(result: Any) -> list[tuple[str, str, str]]:
    assert not result.is_error, result.content
    body = result.structured_content
    assert body is not None and body["cite"]["tool_call_id"].startswith("tc_")
    return [(m["ts_code"], m["name"], m["match"]) for m in body["matches"]]


async def test_names_abbreviations_initials_and_codes(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime()
    found = await call(rt, "lookup", query="茅台")
    assert matches(found)[0] == ("600519.SH", "贵州茅台", "substring")
    first = found.structured_content["matches"][0]
    assert (first["market"], first["industry"], first["list_date"], first["kind"]) == (
        "主板", "白酒", "2001-08-27", "stock",
    )  # fmt: skip
    assert found.structured_content["cite"]["source_chain"] == ["warehouse", "tushare"]
    assert matches(await call(rt, "lookup", query="gzmt"))[0] == ("600519.SH", "贵州茅台", "initials")
    assert matches(await call(rt, "lookup", query="GZMT"))[0] == ("600519.SH", "贵州茅台", "initials")
    assert matches(await call(rt, "lookup", query="招行"))[0] == ("600036.SH", "招商银行", "subsequence")
    assert matches(await call(rt, "lookup", query="贵州茅台"))[0] == ("600519.SH", "贵州茅台", "exact")
    assert matches(await call(rt, "lookup", query="600519"))[0] == ("600519.SH", "贵州茅台", "code")
    assert matches(await call(rt, "lookup", query="600036.SH"))[0] == ("600036.SH", "招商银行", "code")
    assert matches(await call(rt, "lookup", query="万科Ａ"))[0] == ("000002.SZ", "万科Ａ", "exact")  # NFKC
    assert upstream.calls["stock_basic"] == 1  # fetched whole once, then answered by the warehouse


async def test_ranking_prefers_the_whole_name_then_its_start(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    found = matches(await call(rt, "lookup", query="平安", limit=50))
    kinds = [kind for _, _, kind in found]
    assert kinds == sorted(kinds, key=["code", "exact", "prefix", "substring", "subsequence", "initials"].index)
    assert found[0] == ("000001.SZ", "平安银行", "prefix")
    assert ("601318.SH", "中国平安", "substring") in found


async def test_nothing_found_is_an_empty_list_with_a_hint(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    result = await call(rt, "lookup", query="不存在的公司名")
    assert matches(result) == []
    body = result.structured_content
    assert body is not None and body["total"] == 0 and "pinyin initials" in body["hint"]


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [({"query": "   "}, "query"), ({"query": "x" * 41}, "query"), ({"query": "茅\x00台"}, "query"),
     ({"query": "茅台", "limit": 0}, "limit"), ({"query": "茅台", "limit": 51}, "limit")],
)  # fmt: skip
async def test_bad_input_is_a_parameter_error(
    make_runtime: RuntimeFactory, arguments: dict[str, Any], argument: str
) -> None:
    body = error_of(await call(make_runtime(), "lookup", **arguments))
    assert (body["category"], body["argument"]) == ("PARAMETER", argument), body


async def test_no_listing_upstream_is_a_service_error(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    upstream.mode = "down"
    body = error_of(await call(make_runtime(eastmoney_url="http://127.0.0.1:9"), "lookup", query="茅台"))
    assert body["category"] == "SERVICE", body


async def test_stored_names_answer_when_the_daily_refresh_fails(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    rt = make_runtime(eastmoney_url="http://127.0.0.1:9")
    assert matches(await call(rt, "lookup", query="茅台"))[0][0] == "600519.SH"
    clock.set(2025, 1, 2)  # over a day later: the listing is due again, and upstream is down
    upstream.mode = "down"
    result = await call(rt, "lookup", query="茅台")
    assert matches(result)[0][0] == "600519.SH"
    warnings = result.structured_content["cite"]["warnings"]
    assert [w.split(" could not be refreshed")[0] for w in warnings] == ["stock_basic", "index_basic", "fund_basic"]
    assert all("names as fetched at" in w for w in warnings), warnings
    assert upstream.calls["stock_basic"] > 1  # it was asked again (with its retries)


async def test_index_and_fund_names_are_found_too(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    rt = make_runtime()
    fund = (await call(rt, "lookup", query="沪深300ETF")).structured_content or {}
    assert [(m["ts_code"], m["kind"], m["match"]) for m in fund["matches"]][:1] == [("510300.SH", "fund", "exact")]
    index = (await call(rt, "lookup", query="申万创业")).structured_content or {}
    assert ("801005.SI", "index") in [(m["ts_code"], m["kind"]) for m in index["matches"]]
    assert (upstream.calls["index_basic"], upstream.calls["fund_basic"]) == (1, 1)  # each list fetched once


async def test_without_index_or_fund_names_stocks_still_answer(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    upstream.refused = {"index_basic", "fund_basic"}  # a token without the points for them
    rt = make_runtime()
    body = (await call(rt, "lookup", query="茅台")).structured_content or {}
    assert body["matches"][0]["ts_code"] == "600519.SH"
    assert any("no index names are searched" in w for w in body["cite"]["warnings"]), body["cite"]["warnings"]
