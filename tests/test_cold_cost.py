"""What a cold question costs upstream: the newest bar and its factors, and the calendar once.

A cold "latest close of CODE" used to ask upstream four times (a window of bars that an upstream
months behind leaves empty, so every fallback provider was asked too; then the newest bar; the
factors; the calendar again), where a peer server asks once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call

pytestmark = pytest.mark.anyio

CODES = ["000001.SZ", "000002.SZ", "600000.SH", "600519.SH", "000858.SZ"]  # each has a bar on 2026-04-15


async def test_a_cold_latest_question_asks_for_the_newest_bar_and_its_factors_only(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 12, 1)  # the stand-in's newest day is 2026-04-15: months behind, as upstreams can be
    rt = make_runtime()
    for code in CODES:
        body = (await call(rt, "price", code=code)).structured_content
        assert body is not None and body["trade_date"] == "2026-04-15", body
    assert upstream.calls["daily"] == len(CODES) and upstream.calls["adj_factor"] == len(CODES)
    assert upstream.calls["trade_cal"] <= 1  # the year's calendar, once for every question
    assert set(upstream.calls) <= {"daily", "adj_factor", "trade_cal"}


async def test_a_repeated_latest_question_asks_nothing(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 12, 1)
    rt = make_runtime()
    await call(rt, "price", code="600519")
    asked = sum(upstream.calls.values())
    for _ in range(5):
        assert (await call(rt, "price", code="600519")).structured_content is not None
    assert sum(upstream.calls.values()) == asked


async def test_a_questions_curated_rows_are_derived_in_a_batch_before_anyone_reads_them(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 12, 1)
    rt = make_runtime()
    for code in CODES[:3]:
        await call(rt, "price", code=code)
    pending = rt.store.query("SELECT DISTINCT ts_code FROM curation_pending ORDER BY 1")
    assert [code for (code,) in pending] == sorted(CODES[:3])  # left for one derivation, durable in the file
    body = (await call(rt, "warehouse_daily", code="000001", start="2026-04-15", layer="curated")).structured_content
    assert body is not None
    row = dict(zip(body["columns"], body["rows"][0], strict=True))
    assert row["close"] == 11.21 and row["adj_factor"] == 134.5794
    assert rt.store.query("SELECT count(*) FROM curation_pending")[0][0] == 0  # the read derived all three
    assert rt.store.query("SELECT count(DISTINCT ts_code) FROM cur_daily")[0][0] == 3


async def test_a_cold_answer_lands_before_anyone_reads_its_code(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    """A cold price answers from what upstream said and lands after: whoever reads the code next,
    at once, by a tool or by a plain statement, sees the rows it quoted, and nothing is asked twice."""
    clock.set(2026, 12, 1)
    rt = make_runtime()
    body = (await call(rt, "price", code="000001")).structured_content
    assert body is not None and body["close_raw"] == 11.21 and body["adj_factor"] == 134.5794
    daily = (await call(rt, "warehouse_daily", code="000001", start="2026-04-15")).structured_content
    assert daily is not None and len(daily["rows"]) == 1
    assert rt.store.query("SELECT close FROM norm_daily WHERE ts_code = '000001.SZ'") == [(11.21,)]
    again = (await call(rt, "price", code="000001")).structured_content
    assert again is not None and {k: again[k] for k in ("close_raw", "close_qfq", "adj_factor")} == {
        k: body[k] for k in ("close_raw", "close_qfq", "adj_factor")
    }
    assert upstream.calls["daily"] == 1 and upstream.calls["adj_factor"] == 1


def _outcomes(body: dict[str, object]) -> list[tuple[str, str, str]]:
    cite = body["cite"]
    assert isinstance(cite, dict)
    return [(a["provider"], a["dataset"], a["outcome"]) for a in cite["attempts"]]


async def test_once_a_cold_bar_is_known_the_factors_are_fetched_beside_the_next_bar(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    clock.set(2026, 12, 1)
    rt = make_runtime()
    await call(rt, "price", code=CODES[0])  # the first: nothing known, the factors after the bar
    before = dict(upstream.calls)
    body = (await call(rt, "price", code=CODES[1])).structured_content
    assert body is not None and body["trade_date"] == "2026-04-15"
    assert upstream.calls["daily"] - before["daily"] == 1 and upstream.calls["adj_factor"] - before["adj_factor"] == 1
    assert body["adj_factor"] == 181.704 == body["adj_factor_latest"]  # 000002.SZ's factor that day
    # the factors' tries are logged after the bar's, whichever upstream answered first
    assert _outcomes(body) == [("warehouse", "daily", "miss"), ("tushare", "daily", "ok"),
                               ("warehouse", "adj_factor", "miss"), ("tushare", "adj_factor", "ok")]  # fmt: skip


async def test_a_bar_older_than_the_guess_drops_it_and_asks_the_bars_own_day(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    """As a suspended stock's would be: its newest bar is older than the newest day a cold bar has had."""
    clock.set(2026, 12, 1)
    rt = make_runtime()
    await call(rt, "price", code=CODES[0])  # a bar of 2026-04-15 is known
    clock.set(2025, 1, 10)  # 600036.SH's newest bar on or before that day is of 2024-12-31
    before = upstream.calls["adj_factor"]
    body = (await call(rt, "price", code="600036.SH")).structured_content
    assert body is not None and body["trade_date"] == "2024-12-31" and body["close_raw"] == 39.3
    assert body["adj_factor"] == 6.0581  # the factor of the bar's own day, from the fixture
    assert upstream.calls["adj_factor"] - before == 2  # the guess (dropped, never landed) and the day's own
    assert [o for o in _outcomes(body) if o[1] == "adj_factor"] == [("warehouse", "adj_factor", "miss"),
                                                                    ("tushare", "adj_factor", "ok")]  # fmt: skip
    landed = rt.store.query(
        "SELECT min(start_date) FROM fetch_log WHERE dataset = 'adj_factor' AND scope = '600036.SH'"
    )
    assert landed == [(dt.date(2024, 12, 31),)]
