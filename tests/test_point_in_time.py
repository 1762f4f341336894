"""Numbers true in time: "latest" is the newest upstream has, reports count from their
announcement date, old valuations still answer (with their age), and ingestion never
mistakes "nothing yet" for "loaded". Each test is a defect found by trying the tools as a user.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio


def claims_of(body: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    assert body is not None
    return {c["metric"]: c for c in body["claims"]}


async def test_latest_price_is_upstreams_newest_not_an_older_stored_bar(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    """Asking for 2024-06-20 first must not make "latest" mean 2024-06-20 months later."""
    clock.set(2026, 12, 1)
    rt = make_runtime()
    dated = (await call(rt, "price", code="600519", trade_date="2024-06-20")).structured_content
    assert dated is not None and dated["trade_date"] == "2024-06-20"
    body = (await call(rt, "price", code="600519")).structured_content
    assert body is not None and body["trade_date"] == "2026-04-15"  # the stand-in's newest bar of 600519.SH
    assert body["close_raw"] == 1467.5
    assert any("2026-04-15" in w and "days" in w for w in body["cite"]["warnings"]), body["cite"]["warnings"]


async def test_a_current_latest_bar_carries_no_age_warning(make_runtime: RuntimeFactory) -> None:
    body = (await call(make_runtime(), "price", code="600519")).structured_content  # clock: 2024-12-31 20:00
    assert body is not None and body["trade_date"] == "2024-12-31"
    assert not [w for w in body["cite"]["warnings"] if "days" in w]


async def test_reports_are_point_in_time_by_announcement_date(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    """On 2024-06-20 the newest report announced was 2024Q1 (announced 2024-04-27), not 2025H1."""
    clock.set(2025, 10, 23)
    claims = claims_of(
        (await call(make_runtime(), "fundamentals", code="600519", trade_date="2024-06-20")).structured_content
    )
    eps = claims["eps"]
    assert eps["value"] == 19.16 and eps["period"] == "2024-03-31" and eps["period_kind"] == "Q1"
    assert eps["ann_date"] == "2024-04-27" and eps["period_or_date"] == "2024-03-31"
    assert claims["pe_ttm"]["period_or_date"] == "2024-06-20" and claims["pe_ttm"]["ann_date"] is None


@pytest.mark.parametrize(
    ("trade_date", "period", "kind", "eps"),
    [("2024-10-25", "2024-06-30", "H1", 33.19), ("2024-10-26", "2024-09-30", "Q3", 48.42),
     ("2025-04-03", "2024-12-31", "annual", 68.64)],
)  # fmt: skip
async def test_a_report_counts_from_its_announcement_day(
    make_runtime: RuntimeFactory, clock: SettableClock, trade_date: str, period: str, kind: str, eps: float
) -> None:
    clock.set(2025, 10, 23)
    claims = claims_of(
        (await call(make_runtime(), "fundamentals", code="600519", trade_date=trade_date)).structured_content
    )
    assert (claims["eps"]["period"], claims["eps"]["period_kind"], claims["eps"]["value"]) == (period, kind, eps)


async def test_a_named_period_announced_after_the_date_is_not_known_then(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 23)
    error = error_of(
        await call(make_runtime(), "fundamentals", code="600519", period="20250630", trade_date="2024-06-20")
    )
    assert error["category"] == "PARAMETER" and error["argument"] == "period"
    assert "2025-08-13" in error["message"] and "2024-06-20" in error["message"]


async def test_an_old_valuation_still_answers_with_its_age(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    """The stand-in's newest daily_basic of 600519.SH is 2025-10-23; asked on 2026-12-01."""
    clock.set(2026, 12, 1)
    result = await call(make_runtime(), "fundamentals", code="600519", period="20250630")
    assert not result.is_error, result.content
    body = result.structured_content
    claims = claims_of(body)
    assert claims["pe_ttm"]["value"] == 20.4403 and claims["pe_ttm"]["period_or_date"] == "2025-10-23"
    assert claims["eps"]["period"] == "2025-06-30"
    assert body is not None and any("2025-10-23" in w and "days" in w for w in body["cite"]["warnings"])


async def test_an_unknown_code_blames_the_code(make_runtime: RuntimeFactory) -> None:
    error = error_of(await call(make_runtime(), "fundamentals", code="601999"))
    assert error["category"] == "PARAMETER" and error["argument"] == "code" and "601999.SH" in error["message"]


async def test_qfq_before_the_factors_start_says_why(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 10, 23)
    body = (await call(make_runtime(), "price", code="600519", trade_date="2023-06-20")).structured_content
    assert body is not None and body["close_qfq"] is None and body["close_hfq"] is None
    assert any("2023-09-25" in w and "2023-06-20" in w for w in body["cite"]["warnings"]), body["cite"]["warnings"]


async def test_a_day_upstream_has_not_published_is_asked_again(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 4, 17)
    rt = make_runtime()
    unpublished = dt.date(2026, 4, 16)  # a Thursday: the stand-in's whole market stops at 2026-04-15
    first = await rt.ingestor.daily(unpublished)
    assert first["loaded"] == [] and any("2026-04-16" in p for p in first["pending"]), first
    calls = upstream.calls["daily"]
    again = await rt.ingestor.daily(unpublished)
    assert upstream.calls["daily"] == calls + 1 and again["loaded"] == []


async def test_catch_up_behind_an_upstream_asks_little_and_loads_nothing_empty(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 4, 21)
    rt = make_runtime()
    assert (await rt.ingestor.daily(dt.date(2026, 4, 15)))["loaded"] == ["2026-04-15"]
    before = upstream.calls["daily"]
    summary = await rt.ingestor.catch_up()
    assert summary["loaded"] == [], summary
    assert {p[:10] for p in summary["pending"]} == {"2026-04-16", "2026-04-17", "2026-04-20", "2026-04-21"}
    assert upstream.calls["daily"] - before == 2  # the next day, then the newest: upstream is behind
    again = await rt.ingestor.catch_up()  # nothing was recorded as loaded: asked again
    assert again["loaded"] == [] and upstream.calls["daily"] - before == 4


async def test_a_code_with_no_rows_anywhere_is_a_failure(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    rt = make_runtime()
    summary = await rt.ingestor.backfill(dt.date(2024, 1, 1), dt.date(2024, 12, 31), ["601999.SH"])
    assert summary["loaded"] == [] and any("601999.SH" in f for f in summary["failed"]), summary


async def test_quality_status_counts_every_finding(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    now = rt.clock.now().replace(tzinfo=None)
    rows = [{"logged_at": now, "rule": "anomaly", "severity": "error", "ts_code": f"{n:06d}.SZ", "trade_date": None,
             "sources": "tushare", "detail": "{}", "message": "test finding"} for n in range(520)]  # fmt: skip
    rows += [{**rows[0], "severity": "info", "ts_code": "600519.SH"} for _ in range(4)]
    rt.store.append("quality_log", rows)
    body = (await call(rt, "quality_status")).structured_content
    assert body is not None and body["findings_last_24h"] == {"info": 4, "warning": 0, "error": 520}
