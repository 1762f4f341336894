"""How large each tool's answer is for an agent, in characters and estimated tokens, and tools/list.

Runs the real tools in-process over the MCP client against the loopback stand-ins (real fixture
figures), on a fixed day, with typical arguments; a cut answer (`mcp_server.sizing`) is shown as
served, with its whole result's row count beside it.

    python bench/answer_sizes.py
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_server.server import build_server
from mcp_server.sizing import tokens
from ops.runtime import Runtime
from ops.settings import Settings
from tests.conftest import CLOSED, SettableClock
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_searxng import FakeSearxng
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo

# (tool, arguments, the day the question is asked on), in the order tools/list gives them.
CALLS: tuple[tuple[str, dict[str, Any], dt.date], ...] = (
    ("price", {"code": "600519", "trade_date": "20240620"}, dt.date(2024, 12, 31)),
    ("warehouse_daily", {"code": "600519", "start": "20240617", "end": "20240621"}, dt.date(2024, 12, 31)),
    ("warehouse_daily", {"code": "600519", "start": "20200101", "end": "20241231"}, dt.date(2024, 12, 31)),
    ("fundamentals", {"code": "600519", "trade_date": "20251023"}, dt.date(2025, 10, 23)),
    ("financials", {"code": "600502", "statement": "income"}, dt.date(2025, 10, 23)),
    ("warehouse_features", {"code": "600519", "date": "20240620"}, dt.date(2024, 12, 31)),
    ("index_daily", {"code": "000300.SH", "start": "20251001", "end": "20251023"}, dt.date(2025, 10, 24)),
    ("index_daily", {"code": "000300.SH", "start": "20230925", "end": "20251023"}, dt.date(2025, 10, 24)),
    ("fund_nav", {"code": "510300.SH", "start": "20250901", "end": "20251023"}, dt.date(2025, 10, 24)),
    ("moneyflow", {"code": "600519", "start": "20260320", "end": "20260415"}, dt.date(2026, 4, 16)),
    ("macro", {"series": "cpi", "start": "20240101", "end": "20241231"}, dt.date(2025, 10, 24)),
    ("dividends", {"code": "600000"}, dt.date(2025, 6, 30)),
    ("holders", {"code": "600000"}, dt.date(2021, 1, 15)),
    ("forecasts", {"code": "300511.SZ"}, dt.date(2019, 6, 30)),
    ("index_members", {"index_code": "000300.SH", "date": "20231229"}, dt.date(2024, 12, 31)),
    ("industry", {"code": "600519"}, dt.date(2024, 12, 31)),
    ("search", {"query": "贵州茅台 分红"}, dt.date(2024, 12, 31)),
    ("quality_status", {}, dt.date(2024, 12, 31)),
    ("tushare_catalog", {"query": "市盈率"}, dt.date(2024, 12, 31)),
    ("tushare_describe", {"api_name": "daily_basic"}, dt.date(2024, 12, 31)),
    (
        "tushare_query",
        {"api_name": "trade_cal", "params": {"exchange": "SSE", "start_date": "20240101", "end_date": "20240131"}},
        dt.date(2024, 12, 31),
    ),
    (
        "tushare_query",
        {"api_name": "trade_cal", "params": {"exchange": "SSE", "start_date": "20160101", "end_date": "20251231"}},
        dt.date(2024, 12, 31),
    ),
    ("ping", {}, dt.date(2024, 12, 31)),
)


async def measure() -> None:
    tushare, eastmoney, yahoo = FakeTushare(token="bench").start(), FakeEastmoney().start(), FakeYahoo().start()
    searxng = FakeSearxng().start()
    clock = SettableClock()
    try:
        settings = Settings(
            home=Path(tempfile.mkdtemp(prefix="twilight-sizes-")), tushare_token=SecretStr("bench"),
            tushare_api_url=tushare.url, eastmoney_url=eastmoney.url, yahoo_url=yahoo.url, tdx_servers=[CLOSED],
            searxng_url=searxng.url, schedule=False,
        )  # fmt: skip
        rt = Runtime.open(settings, clock=clock)
        clock.set(2024, 12, 31)
        await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
        async with Client(build_server(rt, http_auth=False)) as client:
            listed = json.dumps([t.model_dump(mode="json") for t in (await client.list_tools()).tools])
            print(f"{'tools/list':44} {len(listed):8} chars {tokens(listed):7} tokens")
            for tool, arguments, day in CALLS:
                clock.set(day.year, day.month, day.day)
                result = await client.call_tool(tool, arguments)
                text = result.content[0].text  # type: ignore[union-attr]
                body = result.structured_content or {}
                shown = f"{tool} {json.dumps(arguments, ensure_ascii=False)}"[:44]
                note = "error" if result.is_error else ""
                if body.get("full_result"):
                    note = f"cut: {len(body['rows'])} of {body['row_count']} rows inline"
                print(f"{shown:44} {len(text):8} chars {tokens(text):7} tokens  {note}")
        rt.close()
    finally:
        for stand_in in (tushare, eastmoney, yahoo, searxng):
            stand_in.stop()


if __name__ == "__main__":
    anyio.run(measure)
