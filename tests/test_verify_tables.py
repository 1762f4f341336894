"""verify_answer on the tables of the history and list tools: each column measured in the unit the
answer names for it (index points, 万元, percent), through the real tools on real figures."""

from __future__ import annotations

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.helpers import call

pytestmark = pytest.mark.anyio


async def _verdicts(rt: object, text: str) -> list[str]:
    body = (await call(rt, "verify_answer", text=text)).structured_content  # type: ignore[arg-type]
    assert body is not None
    return [c["status"] for c in body["claims"]]


async def test_an_index_close_in_points_and_a_weight_in_percent(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 24)
    rt = make_runtime()
    bars = (await call(rt, "index_daily", code="000300.SH", start="20251020", end="20251023")).structured_content
    assert bars is not None
    tc = bars["cite"]["tool_call_id"]
    assert await _verdicts(rt, f"沪深300 2025-10-23 收盘 4606.34 点 [{tc}]") == ["verified"]
    assert await _verdicts(rt, f"沪深300 2025-10-23 收盘 4616.34 点 [{tc}]") == ["mismatch"]
    members = (await call(rt, "index_members", index_code="000300.SH", date="20231229")).structured_content
    assert members is not None
    tm = members["cite"]["tool_call_id"]
    assert await _verdicts(rt, f"2023-12-29 贵州茅台在沪深300中的权重为 6.239% [{tm}]") == ["verified"]
    assert await _verdicts(rt, f"2023-12-29 贵州茅台在沪深300中的权重为 6.339% [{tm}]") != ["verified"]
