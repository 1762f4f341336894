"""Ingestion, the four layers, quality rules and the warehouse tools, against the tushare stand-in."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from ops.runtime import Runtime
from ops.settings import Settings
from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FIXTURES, FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio
DAY = dt.date(2026, 4, 15)
CODES = ["600519.SH", "000858.SZ"]


def _rows(rt: Runtime, table: str, where: str = "TRUE") -> int:
    return int(rt.store.query(f"SELECT count(*) FROM {table} WHERE {where}")[0][0])


def _findings(rt: Runtime, rule: str) -> list[tuple[str, str | None, str]]:
    rows = rt.store.query("SELECT severity, ts_code, message FROM quality_log WHERE rule = ?", (rule,))
    return [(r[0], r[1], r[2]) for r in rows]


async def test_whole_market_day_is_one_call_per_dataset_and_idempotent(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 4, 16)
    rt = make_runtime()
    first = await rt.ingestor.daily(DAY)
    assert upstream.calls["daily"] == 1 and upstream.calls["adj_factor"] == 1 and upstream.calls["daily_basic"] == 1
    assert first["rows_loaded"]["daily"] == 5473 and first["rows_per_layer"]["curated"] == 5473
    assert _rows(rt, "feat_daily", f"trade_date = '{DAY}'") == 5473
    counts = {t: _rows(rt, t) for t in ("norm_daily", "norm_adj_factor", "cur_daily", "feat_daily")}
    # resumes: only daily_basic is asked again (the stand-in has none that day: not published yet)
    assert first["pending"] == ["2026-04-15: upstream has no daily_basic rows of the day yet; asked again"]
    again = await rt.ingestor.daily(DAY)
    assert again["upstream_calls"] == 1 and upstream.calls["daily_basic"] == 2 and upstream.calls["daily"] == 1
    assert upstream.calls["adj_factor"] == 1
    await rt.ingestor.daily(DAY, force=True)  # asks again: the merge rules change no row
    assert {t: _rows(rt, t) for t in counts} == counts and upstream.calls["daily"] == 2
    row = rt.store.query("SELECT close, vol, amount, adj_factor, source FROM cur_daily WHERE ts_code = '000001.SZ'")
    assert row == [(11.21, 503937.93, 564031.568, 134.5794, "tushare")]  # the real snapshot's figures


async def test_pages_past_the_row_cap(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 4, 16)
    upstream.row_cap = 2000
    rt = make_runtime()
    rt.composer.providers["tushare"].modules["daily"].PAGE_SIZE = 2000  # type: ignore[attr-defined]
    try:
        summary = await rt.ingestor.daily(DAY)
    finally:
        rt.composer.providers["tushare"].modules["daily"].PAGE_SIZE = 6000  # type: ignore[attr-defined]
    assert upstream.calls["daily"] == 3 and summary["rows_loaded"]["daily"] == 5473
    assert _rows(rt, "norm_daily") == 5473


async def test_zero_close_and_malformed_row(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 4, 16)
    upstream.patches[("daily", "000002.SZ", "20260415")] = {"close": 0}
    upstream.patches[("daily", "000004.SZ", "20260415")] = {"vol": "n/a"}
    rt = make_runtime()
    summary = await rt.ingestor.daily(DAY)
    assert summary["quarantined"] == 1
    quarantined = rt.store.query("SELECT ts_code, reason FROM quarantine")
    assert quarantined == [("000004.SZ", "vol is not a number")]
    assert _rows(rt, "norm_daily", "ts_code = '000004.SZ'") == 0  # never loaded
    assert ("error", "000004.SZ") in [(s, c) for s, c, _ in _findings(rt, "schema_validation")]
    assert _rows(rt, "norm_daily", "ts_code = '000002.SZ'") == 1  # kept as sent, flagged, not curated
    assert _rows(rt, "cur_daily", "ts_code = '000002.SZ'") == 0
    assert [(s, c) for s, c, _ in _findings(rt, "anomaly")] == [("error", "000002.SZ")]


async def test_price_limit_and_cross_source_and_staleness(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2024, 6, 21)
    upstream.patches[("daily", "600519.SH", "20240620")] = {"close": 1515.1}  # +1% against Eastmoney's 1500.1
    rt = make_runtime(cross_check=["akshare"])
    await call(rt, "price", code="600519", trade_date="20240620")
    found = await rt.ingestor.run_quality(dt.date(2024, 6, 20))
    assert found["by_rule"]["cross_source_agreement"] == 1
    (severity, code, message), *_ = _findings(rt, "cross_source_agreement")
    assert (severity, code) == ("warning", "600519.SH") and "akshare" in message and "tushare" in message
    # a day move beyond the 10% limit of a main-board code is flagged for review
    upstream.patches[("daily", "000858.SZ", "20240620")] = {"close": 200.0, "high": 200.0}
    await rt.ingestor.backfill(dt.date(2024, 6, 1), dt.date(2024, 6, 30), ["000858.SZ"])
    await rt.ingestor.run_quality(dt.date(2024, 6, 20))
    assert ("warning", "000858.SZ") in [(s, c) for s, c, _ in _findings(rt, "anomaly")]
    # three days without a success while bars became final: stale, as of the calendar
    assert (await rt.ingestor.check_freshness())["stale"] == []
    clock.set(2024, 6, 24, 20)
    stale = (await rt.ingestor.check_freshness())["stale"]
    assert "tushare" in stale
    status = (await call(rt, "quality_status")).structured_content
    assert status is not None
    assert any(s["source"] == "tushare" and s["stale"] for s in status["sources"])


async def test_features_match_hand_computed_values(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 1, 2)
    rt = make_runtime()
    await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    bars = {r["trade_date"]: float(r["close"]) for r in _csv("daily_600519.SH_2020-2024.csv")}
    factors = {r["trade_date"]: float(r["adj_factor"]) for r in _csv("adj_factor_600519.SH_20230925-20251023.csv")}
    days = sorted(d for d in bars if d <= "20240620")[-21:]
    base = factors[max(d for d in factors if d <= "20241231")]
    qfq = [bars[d] * factors[d] / base for d in days]
    body = (await call(rt, "warehouse_features", code="600519", date="20240620")).structured_content
    assert body is not None and body["trade_date"] == "2024-06-20"
    features = body["features"]
    # Served at 4 decimals (derived figures of 2-decimal prices): the hand value to within half a unit of the 4th.
    assert all(round(v, 4) == v for v in features.values() if isinstance(v, float))
    assert features["ma_5"] == pytest.approx(sum(qfq[-5:]) / 5, abs=5.1e-5)
    assert features["ma_20"] == pytest.approx(sum(qfq[-20:]) / 20, abs=5.1e-5)
    assert features["momentum_5d"] == pytest.approx((qfq[-1] / qfq[-6] - 1) * 100, abs=5.1e-5)
    returns = [qfq[i] / qfq[i - 1] - 1 for i in range(1, 21)]
    mean = sum(returns) / 20
    std = (sum((r - mean) ** 2 for r in returns) / 19) ** 0.5 * 100
    assert features["volatility_20d"] == pytest.approx(std, abs=5.1e-5)
    assert features["ma_60"] is None or features["ma_60"] > 0
    assert features["pe_ttm"] == pytest.approx(24.1579)  # tushare daily_basic of 2024-06-20
    assert body["cite"]["layer"] == "feature"


async def test_warehouse_daily_layers_adjustment_and_limits(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 1, 2)
    rt = make_runtime(answer_token_limit=0)  # five years whole (tests/test_sizing.py: how they are cut)
    await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), CODES)
    five = (await call(rt, "warehouse_daily", code="600519", start="20200101", end="20241231")).structured_content
    assert five is not None and five["row_count"] == 1212 and five["cite"]["layer"] == "curated"
    assert five["cite"]["upstream_sources"] == ["tushare"] and five["cite"]["ingested_at"]
    day = dict(zip(five["columns"], next(r for r in five["rows"] if r[1] == "2024-06-20"), strict=True))
    assert day["close"] == 1500.1 and day["adj_factor"] == 8.0204
    qfq = (
        await call(rt, "warehouse_daily", code="600519", start="20240620", end="20240620", adjust="qfq")
    ).structured_content
    assert qfq is not None and qfq["rows"][0][qfq["columns"].index("close")] == pytest.approx(
        1500.1 * 8.0204 / _factor_on("20241231"), abs=1e-4
    )
    normalized = (await call(rt, "warehouse_daily", code="600519", start="20240620", end="20240620",
                             layer="normalized")).structured_content  # fmt: skip
    assert normalized is not None and normalized["row_count"] == 1
    raw = (
        await call(rt, "warehouse_daily", code="600519", start="20240620", end="20240620", layer="raw")
    ).structured_content
    assert raw is not None and raw["rows"][0][2] == "daily"
    err = error_of(
        await call(rt, "warehouse_daily", code="600519", start="20240101", end="20241231", layer="raw", adjust="qfq")
    )
    assert err["category"] == "PARAMETER" and err["argument"] == "adjust"
    missing = error_of(await call(rt, "warehouse_daily", code="600519", start="20100101", end="20101231"))
    assert missing["argument"] == "start" and "2020-01-02 to 2024-12-31" in missing["message"]
    report = (await call(rt, "warehouse_fundamentals", code="600519", period="20240630")).structured_content
    assert report is not None and report["period"] == "2024-06-30"
    logs = (await call(rt, "quality_logs", severity="info", limit=5)).structured_content
    assert logs is not None and isinstance(logs["entries"], list)
    assert error_of(await call(rt, "quality_logs", limit=0))["argument"] == "limit"


async def test_snapshot_is_a_readable_replica(
    make_runtime: RuntimeFactory, clock: SettableClock, tmp_path: Path
) -> None:
    clock.set(2025, 1, 2)
    rt = make_runtime()
    await rt.ingestor.backfill(dt.date(2024, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    target = tmp_path / "replica.duckdb"
    rt.store.snapshot(target)
    await rt.ingestor.backfill(dt.date(2023, 1, 1), dt.date(2023, 12, 31), ["600519.SH"])  # after the copy
    replica = Runtime.open(Settings(home=tmp_path / "serving", schedule=False), clock=clock, replica=target)
    try:
        body = (
            await call(replica, "warehouse_daily", code="600519", start="20230101", end="20241231")
        ).structured_content
        assert body is not None and body["rows"][0][1] == "2024-01-02"  # the moment of the copy, not later
        assert replica.replica is not None and replica.replica.read_only
    finally:
        replica.close()


def _csv(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _factor_on(day: str) -> float:
    """The newest real factor of 600519.SH on or before `day` (the qfq base of a backfill to it)."""
    rows = [r for r in _csv("adj_factor_600519.SH_20230925-20251023.csv") if r["trade_date"] <= day]
    return float(max(rows, key=lambda r: r["trade_date"])["adj_factor"])


async def test_a_code_keeps_one_factor_source_across_its_history(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    """000858.SZ's factors of the whole-market day come from tushare, those of 2024 from akshare
    (the tushare stand-in has none for it before). Their scales differ (about 20 against about 1),
    so each code keeps one source, the one with more days (the preferred on a tie), and a day that
    source has no factor for gets none; when the choice moves, the code's older rows are redone."""
    clock.set(2026, 4, 16)
    rt = make_runtime()

    def curated() -> list[tuple[dt.date, float | None, str]]:
        sql = "SELECT trade_date, adj_factor, factor_source FROM cur_daily WHERE ts_code = '000858.SZ' ORDER BY 1"
        return [(r[0], r[1], r[2]) for r in rt.store.query(sql)]

    last = dt.date(2024, 12, 31)
    await rt.ingestor.backfill(last, last, ["000858.SZ"])
    [(_, akshare_factor, source)] = curated()
    assert source == "akshare" and akshare_factor is not None and akshare_factor < 5
    await rt.ingestor.daily(DAY)  # one tushare day against one akshare day: tushare, preferred
    assert curated() == [(last, None, "tushare"), (DAY, 20.4531, "tushare")]
    await rt.ingestor.backfill(dt.date(2024, 1, 1), last, ["000858.SZ"])  # 242 akshare days
    rows = curated()
    assert {source for *_, source in rows} == {"akshare"} and len(rows) == 243
    assert rows[-1] == (DAY, None, "akshare")  # no akshare factor that day: none, not another scale
    factors = [factor for _, factor, _ in rows if factor is not None]
    assert max(factors) / min(factors) < 1.5  # one scale
    qfq = rt.store.query("SELECT close_qfq FROM feat_daily WHERE ts_code = '000858.SZ' AND trade_date = '2024-06-20'")
    assert 100 < qfq[0][0] < 200  # the 2024 close of about 150 on akshare's base, not divided by tushare's 20
