"""`financials`: the three statements as cited claims, point in time, through the real tushare SDK.

The stand-in serves the real statement rows in the fixture pack: 600502.SH's 2025Q1 income
statement, announced 2025-04-26, and 600000.SH's 2018Q1 balance sheet and cash flow statement,
announced 2018-04-28 (tests/fixtures/tushare/README.md). A day before that announcement the
report is not known; the earlier-report case of the same read is in test_declarations.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RuntimeFactory, SettableClock
from tests.fake_tushare import FakeTushare
from tests.helpers import call, error_of

pytestmark = pytest.mark.anyio


async def verdicts_are(rt: Any, replies: dict[str, tuple[str, str | None]]) -> None:
    """Each one-claim reply's status and the metric it matched, as `verify_answer` finds them."""
    for reply, (status, matched) in replies.items():
        verdict = (await call(rt, "verify_answer", text=reply)).structured_content
        assert verdict is not None
        assert (verdict["claims"][0]["status"], verdict["claims"][0]["matched"]) == (status, matched), (reply, verdict)


def claims_of(body: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    assert body is not None
    return {c["metric"]: c for c in body["claims"]}


async def test_income_claims_with_units_period_kind_and_announcement(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare
) -> None:
    clock.set(2025, 10, 23)
    rt = make_runtime()
    result = await call(rt, "financials", code="600502", statement="income")
    assert not result.is_error, result.content
    body = result.structured_content
    claims = claims_of(body)
    assert {m: (c["value"], c["unit"]) for m, c in claims.items()} == {
        "revenue": (14542034450.34, "CNY"),
        "operate_profit": (489458593.59, "CNY"),
        "n_income_attr_p": (311169028.21, "CNY"),
        "basic_eps": (0.18, "CNY_per_share"),
    }
    for claim in claims.values():
        assert (claim["period"], claim["period_kind"], claim["ann_date"]) == ("2025-03-31", "Q1", "2025-04-26")
        assert claim["period_or_date"] == "2025-03-31" and claim["cite"]["source"] == "tushare"
    assert body is not None and body["ts_code"] == "600502.SH"
    # the stand-in has no H1 statement, which was due by 2025-08-31: the answer says its report is old
    assert any("2025-06-30 (H1)" in w and "2025-08-31" in w for w in body["cite"]["warnings"]), body["cite"]
    assert body["cite"]["receipt"]["alg"] == "Ed25519" and body["cite"]["tool_call_id"].startswith("tc_")
    assert upstream.calls["income"] == 1
    again = await call(rt, "financials", code="600502.SH", statement="income", period="20250331")
    assert claims_of(again.structured_content)["revenue"]["value"] == 14542034450.34
    assert upstream.calls["income"] == 1  # the second question is answered by the warehouse


async def test_a_report_is_not_used_before_its_announcement(make_runtime: RuntimeFactory, clock: SettableClock) -> None:
    clock.set(2025, 10, 23)
    rt = make_runtime()
    named = error_of(await call(rt, "financials", code="600502", statement="income", period="20250331",
                                as_of="2025-04-25"))  # fmt: skip
    assert named["category"] == "PARAMETER" and named["argument"] == "period"
    assert "2025-04-26" in named["message"] and "2025-04-25" in named["message"] and "as_of" in named["remedy"]
    newest = error_of(await call(rt, "financials", code="600502", statement="income", as_of="20250425"))
    assert newest["category"] == "PARAMETER" and "announced between" in newest["message"]
    on_the_day = (
        await call(rt, "financials", code="600502", statement="income", as_of="2025-04-26")
    ).structured_content
    assert claims_of(on_the_day)["n_income_attr_p"]["ann_date"] == "2025-04-26"
    assert on_the_day is not None and on_the_day["cite"]["warnings"] == []  # the newest report due then


async def test_the_newest_report_answers_however_old(
    make_runtime: RuntimeFactory, upstream: FakeTushare, clock: SettableClock
) -> None:
    """ "Latest" is the newest the source has: a report older than the usual look-back window (here
    585 days, as a stand-in months behind or a long-suspended company leaves it) still answers,
    with the warning that newer ones were due."""
    clock.set(2026, 12, 2)
    body = (await call(make_runtime(), "financials", code="600502", statement="income")).structured_content
    assert body is not None, "the newest report was not found"
    assert claims_of(body)["revenue"]["value"] == 14542034450.34
    assert claims_of(body)["revenue"]["ann_date"] == "2025-04-26"
    assert any("of 2025-03-31 (Q1)" in w and "2026-09-30 (Q3)" in w for w in body["cite"]["warnings"]), body["cite"]
    assert upstream.calls["income"] == 2  # the window, then everything the source has


# 600000.SH (浦发银行) 2018Q1, as tushare sent it (tushare_wire/balancesheet.json and cashflow.json).
SPDB_2018Q1 = {
    "balancesheet": {"total_assets": 6132993000000.0, "total_liab": 5698180000000.0,
                     "total_hldr_eqy_exc_min_int": 428220000000.0, "total_hldr_eqy_inc_min_int": 434813000000.0},
    "cashflow": {"n_cashflow_act": -48725000000.0, "n_cashflow_inv_act": 115503000000.0,
                 "n_cash_flows_fnc_act": -44397000000.0, "n_incr_cash_cash_equ": 21620000000.0,
                 "c_cash_equ_end_period": 169078000000.0},
}  # fmt: skip


@pytest.mark.parametrize("statement", sorted(SPDB_2018Q1))
async def test_balance_sheet_and_cash_flow_claims_point_in_time(
    make_runtime: RuntimeFactory, clock: SettableClock, upstream: FakeTushare, statement: str
) -> None:
    clock.set(2018, 7, 20)
    rt = make_runtime()
    body = (await call(rt, "financials", code="600000", statement=statement)).structured_content
    claims = claims_of(body)
    assert {m: (c["value"], c["unit"]) for m, c in claims.items()} == {
        m: (v, "CNY") for m, v in SPDB_2018Q1[statement].items()
    }
    for claim in claims.values():
        assert (claim["period"], claim["period_kind"], claim["ann_date"]) == ("2018-03-31", "Q1", "2018-04-28")
        assert claim["cite"]["source"] == "tushare"
    assert upstream.calls[statement] == 1
    before = error_of(await call(rt, "financials", code="600000", statement=statement, period="20180331",
                                 as_of="2018-04-27"))  # fmt: skip
    assert before["category"] == "PARAMETER" and "2018-04-28" in before["message"]
    stored = rt.store.query(f"SELECT count(*) FROM norm_{statement} WHERE ts_code = '600000.SH'")
    assert stored == [(1,)]  # through the warehouse's layers, raw payload included
    assert rt.store.query("SELECT count(*) FROM raw_payloads WHERE api_name = ?", [statement]) == [(1,)]


async def test_balance_sheet_and_cash_flow_figures_verify_under_their_own_words(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2018, 7, 20)
    rt = make_runtime()
    ids = {}
    for statement in SPDB_2018Q1:
        body = (await call(rt, "financials", code="600000", statement=statement)).structured_content
        assert body is not None
        ids[statement] = body["cite"]["tool_call_id"]
    bs, cf = ids["balancesheet"], ids["cashflow"]
    replies = {
        f"浦发银行2018年一季度末总资产6.13万亿元 [{bs}]": ("verified", "total_assets"),
        f"负债合计5.70万亿元 [{bs}]": ("verified", "total_liab"),
        f"归母股东权益4282.2亿元 [{bs}]": ("verified", "total_hldr_eqy_exc_min_int"),
        f"经营活动现金流量净额-487.25亿元 [{cf}]": ("verified", "n_cashflow_act"),
        f"投资活动现金流量净额1155.03亿元 [{cf}]": ("verified", "n_cashflow_inv_act"),
        f"期末现金及现金等价物余额1690.78亿元 [{cf}]": ("verified", "c_cash_equ_end_period"),
        f"总负债6.13万亿元 [{bs}]": ("mismatch", None),  # total assets' figure under liabilities' name
        f"资产负债率92.9% [{bs}]": ("mismatch", None),  # a ratio the answer does not hold
    }
    await verdicts_are(rt, replies)


@pytest.mark.parametrize("statement", ["profit", "balance"])
async def test_a_statement_not_served_is_a_parameter_error(
    make_runtime: RuntimeFactory, upstream: FakeTushare, statement: str
) -> None:
    error = error_of(await call(make_runtime(), "financials", code="600502", statement=statement))
    assert error["category"] == "PARAMETER" and error["argument"] == "statement"
    assert "income, balancesheet, cashflow" in error["remedy"] and statement in error["message"]
    assert sum(upstream.calls.values()) == 0


async def test_a_period_must_be_a_quarter_end(make_runtime: RuntimeFactory, upstream: FakeTushare) -> None:
    error = error_of(await call(make_runtime(), "financials", code="600502", statement="income", period="20250415"))
    assert error["category"] == "PARAMETER" and error["argument"] == "period"
    assert sum(upstream.calls.values()) == 0


async def test_the_answer_is_small_and_its_figures_verify_under_their_own_words(
    make_runtime: RuntimeFactory, clock: SettableClock
) -> None:
    clock.set(2025, 10, 23)
    rt = make_runtime()
    body = (await call(rt, "financials", code="600502", statement="income")).structured_content
    assert body is not None
    assert len(json.dumps(body, ensure_ascii=False)) < 8_000  # far below an agent's ~8,000-token budget
    tc = body["cite"]["tool_call_id"]
    replies = {
        f"2025年一季度营业收入145.42亿元 [{tc}]": ("verified", "revenue"),
        f"营业利润4.89亿元 [{tc}]": ("verified", "operate_profit"),
        f"归母净利润3.11亿元 [{tc}]": ("verified", "n_income_attr_p"),
        f"基本每股收益0.18元 [{tc}]": ("verified", "basic_eps"),
        f"revenue of 14.54 billion yuan [{tc}]": ("verified", "revenue"),
        f"归母净利润145.42亿元 [{tc}]": ("mismatch", None),  # revenue's figure under net profit's name
    }
    await verdicts_are(rt, replies)


async def test_without_a_token_or_the_points_the_error_says_what_the_server_lacks(
    make_runtime: RuntimeFactory, upstream: FakeTushare
) -> None:
    """Only tushare serves income: no fallback answers, and the remedy is the operator's."""
    missing = error_of(await call(make_runtime(token=None), "financials", code="600502", statement="income"))
    assert missing["category"] == "AUTH" and "TUSHARE_TOKEN" in missing["message"]
    upstream.mode = "no_permission"
    refused = error_of(await call(make_runtime(), "financials", code="600502", statement="income"))
    assert refused["category"] == "AUTH" and "points" in refused["remedy"]
