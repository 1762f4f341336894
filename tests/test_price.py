"""The `price` tool in memory, through the real MCP client, against the fake tushare upstream."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
import pytest
from mcp import Client

from mcp_server.server import build_server
from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).parent / "fixtures" / "tushare"
ENVELOPE_FIELDS = {
    "ts_code", "trade_date", "close_raw", "close_qfq", "close_hfq", "open_raw", "high_raw", "low_raw",
    "volume", "amount", "adj_factor", "adj_factor_latest", "as_of", "freshness_seconds", "source",
    "source_chain", "market_state",
}  # fmt: skip


def fixture_row(name: str, trade_date: str) -> dict[str, str]:
    with (FIXTURES / name).open() as handle:
        return next(r for r in csv.DictReader(handle) if r["trade_date"] == trade_date)


async def test_envelope_shape_and_real_figures(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    result = await call(rt, "price", code="600519", trade_date="2024-06-20")
    body = result.structured_content
    assert body is not None and not result.is_error
    assert set(body) == ENVELOPE_FIELDS | {"units", "cite"}
    bar = fixture_row("daily_600519.SH_2020-2024.csv", "20240620")
    assert body["ts_code"] == "600519.SH" and body["trade_date"] == "2024-06-20"
    assert body["close_raw"] == float(bar["close"]) == 1500.1
    assert (body["open_raw"], body["high_raw"], body["low_raw"]) == tuple(
        float(bar[k]) for k in ("open", "high", "low")
    )
    assert body["volume"] == float(bar["vol"]) and body["amount"] == float(bar["amount"])
    assert body["units"] == {
        "price": "CNY", "volume": "lots_100shares", "amount": "thousand_CNY",
        "share_count": "ten_thousand_shares", "market_cap": "ten_thousand_CNY",
    }  # fmt: skip
    assert body["source"] == "tushare" and body["source_chain"] == ["warehouse", "tushare"]
    assert body["market_state"] == "closed_final"
    cite = body["cite"]
    assert cite["kind"] == "tool" and cite["tool_call_id"].startswith("tc_")
    assert cite["served_by"].startswith("twilight-drive/")
    assert cite["fetched_at"] == body["as_of"]


async def test_qfq_and_hfq_from_real_factors(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    """600519.SH 2024-06-20: close 1500.1, factor 8.0204; the qfq base is the newest known factor."""
    clock.set(2025, 10, 23)  # the last day of the factor fixture, after the final time
    rt = make_runtime()
    body = (await call(rt, "price", code="600519.SH", trade_date="20240620")).structured_content
    assert body is not None
    latest = float(fixture_row("adj_factor_600519.SH_20230925-20251023.csv", "20251023")["adj_factor"])
    assert body["adj_factor"] == 8.0204 and body["adj_factor_latest"] == latest == 8.305
    assert body["close_hfq"] == pytest.approx(1500.1 * 8.0204, abs=1e-4)
    assert body["close_qfq"] == pytest.approx(1500.1 * 8.0204 / 8.305, abs=1e-4)
    assert body["cite"]["adj_factor_latest_date"] == "2025-10-23"


async def test_code_spellings_answer_the_same_tushare_code(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    for spelling in ("600519", "600519.SH", "sh600519", "600519.SS", "SH600519"):
        body = (await call(rt, "price", code=spelling, trade_date="2024-06-20")).structured_content
        assert body is not None and body["ts_code"] == "600519.SH" and body["close_raw"] == 1500.1


async def test_without_a_date_answers_the_latest_bar(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2024, 12, 31, 10, 0)  # trading, before the close: today's bar is not there yet
    rt = make_runtime()
    body = (await call(rt, "price", code="000858")).structured_content
    assert body is not None and body["trade_date"] == "2024-12-30" and body["ts_code"] == "000858.SZ"
    assert body["market_state"] == "closed_final"
    clock.set(2024, 12, 31, 20, 0)
    body = (await call(rt, "price", code="000858")).structured_content
    assert body is not None and body["trade_date"] == "2024-12-31"
    assert body["close_raw"] == float(fixture_row("daily_000858.SZ_2020-2024.csv", "20241231")["close"])


async def test_weekend_gets_parameter_error_naming_nearest_bar(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    error = error_of(await call(rt, "price", code="600519", trade_date="2024-06-22"))
    assert error["category"] == "PARAMETER" and error["argument"] == "trade_date"
    assert "not a trading day" in error["message"] and "2024-06-21" in error["message"]
    assert "2024-06-21" in error["remedy"]


async def test_holiday_gets_parameter_error(make_runtime: RuntimeFactory) -> None:
    error = error_of(await call(make_runtime(), "price", code="600519", trade_date="2024-10-03"))
    assert error["category"] == "PARAMETER" and "2024-09-30" in error["message"]


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"code": "hello world"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "999999"}, "code"),
        ({"code": "600519", "trade_date": "2024-13-01"}, "trade_date"),
        ({"code": "600519", "trade_date": "yesterday"}, "trade_date"),
        ({"code": "600519", "trade_date": "2031-01-02"}, "trade_date"),
        ({"code": "600519", "trade_date": "1980-01-02"}, "trade_date"),
    ],
)
async def test_bad_input_is_a_parameter_error(
    make_runtime: RuntimeFactory, arguments: dict[str, str], argument: str
) -> None:
    error = error_of(await call(make_runtime(), "price", **arguments))
    assert error["category"] == "PARAMETER" and error["argument"] == argument and error["remedy"]


async def test_unknown_code_says_so(make_runtime: RuntimeFactory) -> None:
    error = error_of(await call(make_runtime(), "price", code="601999"))
    assert error["category"] == "PARAMETER" and "601999.SH" in error["message"]


async def test_hundred_sequential_calls_cost_one_upstream_call_per_dataset(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime()
    async with Client(build_server(rt, http_auth=False)) as client:
        for _ in range(100):
            result = await client.call_tool("price", {"code": "600519", "trade_date": "2024-06-20"})
            assert not result.is_error
        assert dict(upstream.calls) == {"daily": 1, "adj_factor": 1, "trade_cal": 1}
        body = result.structured_content
        assert body is not None and body["source_chain"] == ["warehouse"]
        assert {a["outcome"] for a in body["cite"]["attempts"]} == {"hit"}


async def test_thirty_concurrent_cold_calls_are_single_flight(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    rt = make_runtime()
    upstream.delay = 0.05  # keep the first fetch in flight while the others arrive
    results = []
    async with Client(build_server(rt, http_auth=False)) as client:

        async def one() -> None:
            results.append(await client.call_tool("price", {"code": "600519"}))

        async with anyio.create_task_group() as group:
            for _ in range(30):
                group.start_soon(one)
    assert len(results) == 30 and not any(r.is_error for r in results)
    assert {r.structured_content["close_raw"] for r in results if r.structured_content} == {1524.0}
    assert dict(upstream.calls) == {"daily": 1, "adj_factor": 1, "trade_cal": 1}


async def test_todays_bar_expires_at_the_close_and_final_bar_never(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2024, 12, 31, 15, 30)  # closed, bar not yet final
    rt = make_runtime()
    body = (await call(rt, "price", code="600519", trade_date="2024-12-31")).structured_content
    assert body is not None and body["market_state"] == "closed"
    await call(rt, "price", code="600519", trade_date="2024-12-31")
    assert upstream.calls["daily"] == 1  # still fresh until the final time
    clock.set(2024, 12, 31, 16, 30)
    body = (await call(rt, "price", code="600519", trade_date="2024-12-31")).structured_content
    assert body is not None and body["market_state"] == "closed_final"
    assert upstream.calls["daily"] == 2  # refetched once the day became final
    clock.set(2025, 6, 30, 12, 0)
    await call(rt, "price", code="600519", trade_date="2024-12-31")
    assert upstream.calls["daily"] == 2  # a final bar never expires
    assert body["freshness_seconds"] == 0


async def test_freshness_counts_from_the_fetch(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    rt = make_runtime()
    await call(rt, "price", code="600519", trade_date="2024-06-20")
    clock.set(2024, 12, 31, 20, 5)
    body = (await call(rt, "price", code="600519", trade_date="2024-06-20")).structured_content
    assert body is not None and body["freshness_seconds"] == 300


async def test_tools_list_has_output_schema_and_read_only(make_runtime: RuntimeFactory) -> None:
    async with Client(build_server(make_runtime(), http_auth=False)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"price", "fundamentals", "ping"} <= set(tools)
    price = tools["price"]
    assert price.output_schema is not None
    assert ENVELOPE_FIELDS | {"units", "cite"} <= set(price.output_schema["properties"])
    assert price.annotations is not None and price.annotations.read_only_hint is True


async def test_numbers_are_accepted_where_clients_json_parse_arguments(make_runtime: RuntimeFactory) -> None:
    """The MCP Inspector CLI turns code=600519 and trade_date=20240620 into JSON numbers."""
    rt = make_runtime()
    body = (await call(rt, "price", code=600519, trade_date=20240620)).structured_content
    assert body is not None and body["ts_code"] == "600519.SH" and body["close_raw"] == 1500.1
    body = (await call(rt, "price", code=858, trade_date=20240620)).structured_content
    assert body is not None and body["ts_code"] == "000858.SZ"
