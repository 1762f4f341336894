"""`fundamentals`: valuation and indicators as cited claims, from the real fixtures."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
FIXTURES = Path(__file__).parent / "fixtures" / "tushare"


def claims_of(body: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    assert body is not None
    return {c["metric"]: c for c in body["claims"]}


async def test_pe_on_a_date_is_one_call(make_runtime: RuntimeFactory) -> None:
    with (FIXTURES / "daily_basic_600519.SH_20230925-20251023.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["trade_date"] == "20240620")
    result = await call(make_runtime(), "fundamentals", code="600519", trade_date="2024-06-20")
    claims = claims_of(result.structured_content)
    assert claims["pe"]["value"] == float(row["pe"]) and claims["pe"]["unit"] == "ratio"
    assert claims["pe_ttm"]["value"] == float(row["pe_ttm"])
    assert claims["total_mv"]["value"] == float(row["total_mv"])
    assert claims["total_mv"]["unit"] == "ten_thousand_CNY"
    assert claims["pe"]["period_or_date"] == "2024-06-20"
    assert claims["pe"]["cite"]["tool_call_id"].startswith("tc_")


async def test_latest_report_dedupes_tushare_duplicates(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 10, 23)
    claims = claims_of((await call(make_runtime(), "fundamentals", code="600519.SH")).structured_content)
    assert claims["eps"]["period_or_date"] == "2025-06-30" and claims["eps"]["value"] == 36.18
    assert claims["roe"]["unit"] == "percent" and claims["pe"]["period_or_date"] == "2025-10-23"


async def test_named_period(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 10, 23)
    claims = claims_of(
        (await call(make_runtime(), "fundamentals", code="600519", period="20240630")).structured_content
    )
    assert claims["eps"]["period_or_date"] == "2024-06-30"


async def test_period_must_be_a_quarter_end(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    error = error_of(await call(make_runtime(), "fundamentals", code="600519", period="20240615"))
    assert error["category"] == "PARAMETER" and error["argument"] == "period"
    assert sum(upstream.calls.values()) == 0


async def test_without_a_token_reports_come_from_akshare_and_valuation_says_why(
    make_runtime: RuntimeFactory,
) -> None:
    result = await call(make_runtime(token=None), "fundamentals", code="600519")
    assert not result.is_error, result.content
    body = result.structured_content or {}
    metrics = {c["metric"]: c for c in body["claims"]}
    assert "pe_ttm" not in metrics and metrics["eps"]["cite"]["source"] == "akshare"
    assert metrics["eps"]["period_or_date"] == "2024-09-30" and metrics["eps"]["value"] is not None
    assert any("valuation unavailable" in w and "TUSHARE_TOKEN" in w for w in body["cite"]["warnings"])
