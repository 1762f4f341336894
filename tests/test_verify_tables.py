"""verify_answer on the tables of the history and list tools: each column measured in the unit the
answer names for it (index points, 万元, percent), through the real tools on real figures."""

from __future__ import annotations

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.helpers import call, verdicts

pytestmark = pytest.mark.anyio


async def test_an_index_close_in_points_and_a_weight_in_percent(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    bars = (await call(rt, "index_daily", code="000300.SH", start="20251020", end="20251023")).structured_content
    assert bars is not None
    tc = bars["cite"]["tool_call_id"]
    assert await verdicts(rt, f"沪深300 2025-10-23 收盘 4606.34 点 [{tc}]") == ["verified"]
    assert await verdicts(rt, f"沪深300 2025-10-23 收盘 4616.34 点 [{tc}]") == ["mismatch"]
    members = (await call(rt, "index_members", index_code="000300.SH", date="20231229")).structured_content
    assert members is not None
    tm = members["cite"]["tool_call_id"]
    assert await verdicts(rt, f"2023-12-29 贵州茅台在沪深300中的权重为 6.239% [{tm}]") == ["verified"]
    assert await verdicts(rt, f"2023-12-29 贵州茅台在沪深300中的权重为 6.339% [{tm}]") != ["verified"]


async def test_holders_dividends_money_flow_and_forecasts_by_their_words(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2021, 1, 15)
    rt = make_runtime()
    holders = (await call(rt, "holders", code="600000")).structured_content or {}
    th = holders["cite"]["tool_call_id"]
    said = f"2020-09-30 上海国际集团有限公司持股63.31亿股，持股比例21.57% [{th}]"
    assert await verdicts(rt, said) == ["verified", "verified"]
    # the right figure under another column's words is not evidence
    assert await verdicts(rt, f"2020-09-30 上海国际集团有限公司持股比例63.31% [{th}]") == ["mismatch"]
    clock.set(2025, 6, 30)
    dividends = (await call(rt, "dividends", code="600000")).structured_content or {}
    td = dividends["cite"]["tool_call_id"]
    assert await verdicts(rt, f"浦发银行2024年度预案每股派息0.41元 [{td}]") == ["verified"]
    assert await verdicts(rt, f"浦发银行2024年度预案每股派息0.42元 [{td}]") == ["mismatch"]
    clock.set(2026, 4, 16)
    flow = (await call(rt, "moneyflow", code="600519", start="20260415", end="20260415")).structured_content or {}
    tf = flow["cite"]["tool_call_id"]
    assert await verdicts(rt, f"贵州茅台 2026-04-15 资金净流入6.07亿元 [{tf}]") == ["verified"]
    clock.set(2019, 6, 30)
    forecast = (await call(rt, "forecasts", code="300511.SZ")).structured_content or {}
    tc = forecast["cite"]["tool_call_id"]
    assert await verdicts(rt, f"雪榕生物预计2018年度净利润下限1.35亿元 [{tc}]") == ["verified"]
    assert await verdicts(rt, f"雪榕生物预计净利润下限1.36亿元 [{tc}]") == ["mismatch"]
