"""Answers sized for an agent: a long table is cut to its first rows, a summary of all of them and a
resource with the whole result, which only its caller reads, for the configured time; short
answers stay whole. Five years of 600519.SH's real daily bars through the tushare stand-in."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from mcp_server.results import NotFound, whole_csv
from mcp_server.server import build_server
from mcp_server.sizing import summary, tokens
from ops.runtime import Runtime
from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FIXTURES
from tests.helpers import call
from warehouse.ledger import LOCAL_OPERATOR, caller_of_user

pytestmark = pytest.mark.anyio
CLOSES = {
    f"{r['trade_date'][:4]}-{r['trade_date'][4:6]}-{r['trade_date'][6:]}": float(r["close"])
    for r in csv.DictReader((FIXTURES / "daily_600519.SH_2020-2024.csv").read_text().splitlines())
}


async def _five_years(make_runtime: RuntimeFactory, clock: SettableClock) -> Runtime:
    clock.set(2025, 1, 2)
    rt = make_runtime()
    await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    return rt


async def test_a_long_history_is_cut_to_a_summary_and_its_resource_holds_every_row(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    rt = await _five_years(make_runtime, clock)
    async with Client(build_server(rt, http_auth=False)) as client:
        result = await client.call_tool("warehouse_daily", {"code": "600519", "start": "20200101", "end": "20241231"})
        body: dict[str, Any] = result.structured_content or {}
        text = result.content[0].text  # type: ignore[union-attr]
        assert tokens(text) <= 8000 < tokens(json.dumps(body["summary"]) * 60)
        assert body["row_count"] == len(CLOSES) == 1212
        inline = body["rows"]
        assert 1 <= len(inline) == body["full_result"]["rows_inline"] < 1212
        day, close = body["columns"].index("trade_date"), body["columns"].index("close")
        assert inline[0][day] == "2020-01-02"
        assert [r[close] for r in inline] == [CLOSES[r[day]] for r in inline]
        facts = body["summary"]
        assert (facts["first_date"], facts["last_date"]) == ("2020-01-02", "2024-12-31")
        closes = facts["numbers"]["close"]
        assert closes["max"] == max(CLOSES.values()) and closes["min"] == min(CLOSES.values())
        assert closes["first"] == CLOSES["2020-01-02"] and closes["latest"] == CLOSES["2024-12-31"]
        assert closes["count"] == 1212
        uri = body["full_result"]["uri"]
        tool_call_id = body["cite"]["tool_call_id"]
        assert uri == f"twilight://results/{tool_call_id}" and body["full_result"]["csv_url"] is None  # stdio
        read = await client.read_resource(uri)
    content = read.contents[0]
    assert content.mime_type == "text/csv"
    rows = list(csv.DictReader(content.text.splitlines()))  # type: ignore[union-attr]
    assert len(rows) == 1212
    assert {r["trade_date"]: float(r["close"]) for r in rows} == CLOSES
    # A figure from a row that was not inline is one verify_answer finds.
    checked = await call(
        rt, "verify_answer", text=f"600519 收盘 {CLOSES['2023-06-30']} 元 (2023-06-30) [{tool_call_id}]"
    )
    verdict = (checked.structured_content or {})["verdict"]
    assert verdict == "pass", checked.structured_content
    wrong = await call(
        rt, "verify_answer", text=f"600519 收盘 {CLOSES['2023-06-30'] + 7} 元 (2023-06-30) [{tool_call_id}]"
    )
    assert (wrong.structured_content or {})["verdict"] != "pass"


async def test_only_its_caller_reads_a_result_and_only_until_it_expires(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    rt = await _five_years(make_runtime, clock)
    body = (await call(rt, "warehouse_daily", code="600519", start="20200101")).structured_content or {}
    tool_call_id = body["cite"]["tool_call_id"]
    assert whole_csv(rt, tool_call_id, LOCAL_OPERATOR).count("\n") == 1213
    for who, asked in ((caller_of_user("someone-else"), tool_call_id), (LOCAL_OPERATOR, "tc_" + "0" * 16),
                       (LOCAL_OPERATOR, "../../etc/passwd")):  # fmt: skip
        with pytest.raises(NotFound):
            whole_csv(rt, asked, who)
    clock.when += rt.options.result_ttl + dt.timedelta(minutes=1)
    async with Client(build_server(rt, http_auth=False)) as client:
        with pytest.raises(MCPError, match="expired: ask the tool again"):
            await client.read_resource(f"twilight://results/{tool_call_id}")


async def test_a_short_answer_stays_whole_and_no_limit_never_cuts(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    rt = await _five_years(make_runtime, clock)
    week = (await call(rt, "warehouse_daily", code="600519", start="20241223", end="20241227")).structured_content
    assert week is not None and week["summary"] is None and week["full_result"] is None
    day = week["columns"].index("trade_date")
    assert [r[day] for r in week["rows"]] == ["2024-12-23", "2024-12-24", "2024-12-25", "2024-12-26", "2024-12-27"]
    uncut = make_runtime(answer_token_limit=0)
    await uncut.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    whole = (await call(uncut, "warehouse_daily", code="600519", start="20200101")).structured_content
    assert whole is not None and len(whole["rows"]) == 1212 and whole["summary"] is None


def test_summary_orders_by_date_whatever_order_rows_come_in() -> None:
    rows: list[list[Any]] = [["2024-12-31", 1524.0, None], ["2024-12-30", None, False], ["2024-12-27", 1528.97, True]]
    found = summary(["trade_date", "close", "flag"], rows)
    assert (found.first_date, found.last_date) == ("2024-12-27", "2024-12-31")
    assert found.numbers["close"].first == 1528.97 and found.numbers["close"].latest == 1524.0
    assert found.numbers["close"].count == 2 and found.numbers["close"].mean == 1526.49  # a gap is not counted
    assert "flag" not in found.numbers  # a boolean is not a number
    assert tokens("贵州茅台") == 4 and tokens("a" * 40) == 10
