"""One contract test for every provider x dataset: the real library, its loopback stand-in,
the standard columns in canonical units, and rows inside the window that was asked for.

The case table must name every dataset module a provider registers, so a new module
without a case fails here rather than going untested.
"""

from __future__ import annotations

import datetime as dt

import pytest

from providers.contract import Query
from providers.models import DATASETS
from tests.conftest import RuntimeFactory, tdx_server
from tests.fake_searxng import FakeDashScope, FakeGoogleCSE, FakeSearxng
from tests.fake_tdx import FakeTdx

D = dt.date
CASES = {
    ("tushare", "daily"): Query("daily", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("tushare", "adj_factor"): Query("adj_factor", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("tushare", "trade_cal"): Query("trade_cal", "SSE", "cn", D(2024, 1, 1), D(2024, 12, 31)),
    ("tushare", "daily_basic"): Query("daily_basic", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("tushare", "fina_indicator"): Query("fina_indicator", "600519.SH", "cn", D(2024, 1, 1), D(2025, 12, 31)),
    ("tushare", "income"): Query("income", "600502.SH", "cn", D(2025, 1, 1), D(2025, 12, 31)),
    ("tushare", "balancesheet"): Query("balancesheet", "600000.SH", "cn", D(2018, 1, 1), D(2018, 12, 31)),
    ("tushare", "cashflow"): Query("cashflow", "600000.SH", "cn", D(2018, 1, 1), D(2018, 12, 31)),
    ("tushare", "stock_basic"): Query("stock_basic", "600519.SH", "cn", D(1990, 1, 1), D(2026, 6, 30)),
    ("akshare", "daily"): Query("daily", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("akshare", "fund_daily"): Query("fund_daily", "510300.SH", "cn", D(2024, 1, 1), D(2024, 1, 31)),
    ("akshare", "adj_factor"): Query("adj_factor", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("akshare", "fina_indicator"): Query("fina_indicator", "600519.SH", "cn", D(2024, 1, 1), D(2025, 12, 31)),
    ("akshare", "spot"): Query("spot", "*", "cn", D(2026, 4, 15), D(2026, 4, 15)),
    ("akshare", "macro"): Query("macro", "cpi", "cn", D(2024, 1, 1), D(2024, 12, 31)),
    ("pytdx", "daily"): Query("daily", "600519.SH", "cn", D(2024, 6, 1), D(2024, 6, 30)),
    ("yahoo", "daily"): Query("daily", "AAPL", "global", D(2020, 6, 1), D(2020, 6, 30)),
    ("yahoo", "adj_factor"): Query("adj_factor", "AAPL", "global", D(2020, 6, 1), D(2020, 6, 30)),
    ("tushare", "index_daily"): Query("index_daily", "000300.SH", "cn", D(2025, 10, 1), D(2025, 10, 23)),
    ("tushare", "index_basic"): Query("index_basic", "801005.SI", "cn", D(1990, 12, 19), D(1990, 12, 19)),
    ("tushare", "fund_daily"): Query("fund_daily", "510300.SH", "cn", D(2024, 1, 1), D(2024, 1, 31)),
    ("tushare", "fund_adj"): Query("fund_adj", "510300.SH", "cn", D(2024, 1, 1), D(2024, 1, 31)),
    ("tushare", "fund_basic"): Query("fund_basic", "510300.SH", "cn", D(1990, 12, 19), D(1990, 12, 19)),
    ("tushare", "moneyflow"): Query("moneyflow", "600519.SH", "cn", D(2026, 3, 1), D(2026, 4, 15)),
    ("tushare", "macro"): Query("macro", "cpi", "cn", D(2024, 1, 1), D(2024, 12, 31)),
    ("tushare", "money_supply"): Query("money_supply", "m2", "cn", D(2024, 1, 1), D(2024, 12, 31)),
    ("tushare", "social_financing"): Query("social_financing", "sf", "cn", D(2024, 1, 1), D(2024, 12, 31)),
    ("tushare", "shibor"): Query("shibor", "shibor", "cn", D(2024, 12, 1), D(2024, 12, 31)),
    ("tushare", "dividend"): Query("dividend", "600000.SH", "cn", D(1990, 12, 19), D(2025, 6, 30)),
    ("tushare", "top10_holders"): Query("top10_holders", "600000.SH", "cn", D(2020, 1, 1), D(2020, 12, 31)),
    ("tushare", "top10_floatholders"): Query("top10_floatholders", "600000.SH", "cn", D(2020, 1, 1), D(2020, 12, 31)),
    ("tushare", "stk_holdernumber"): Query("stk_holdernumber", "600519.SH", "cn", D(2023, 1, 1), D(2025, 12, 31)),
    ("tushare", "forecast"): Query("forecast", "300511.SZ", "cn", D(2019, 1, 1), D(2019, 12, 31)),
    ("tushare", "express"): Query("express", "600000.SH", "cn", D(2018, 1, 1), D(2018, 12, 31)),
    ("tushare", "index_weight"): Query("index_weight", "399300.SZ", "cn", D(2023, 12, 1), D(2023, 12, 31)),
    ("tushare", "index_classify"): Query("index_classify", "SW2014", "cn", D(1990, 12, 19), D(2025, 6, 30)),
    ("tushare", "index_member_all"): Query("index_member_all", "600519.SH", "cn", D(1990, 12, 19), D(2025, 6, 30)),
    **{
        (web, "search"): Query(
            "search",
            "贵州茅台 业绩",
            "web",
            D(2024, 12, 30),
            D(2024, 12, 30),
            extra=(("language", "zh-CN"), ("categories", ""), ("max_results", "10")),
        )
        for web in ("searxng", "dashscope", "google_cse")
    },
}
_DATED = {"daily": "trade_date", "adj_factor": "trade_date", "trade_cal": "cal_date", "daily_basic": "trade_date",
          "fina_indicator": "ann_date", "macro": "period", "money_supply": "period", "shibor": "date",
          "social_financing": "period",
          "income": "ann_date", "balancesheet": "ann_date",
          "cashflow": "ann_date", "index_daily": "trade_date", "fund_daily": "trade_date", "fund_adj": "trade_date",
          "moneyflow": "trade_date", "top10_holders": "end_date", "top10_floatholders": "end_date",
          "stk_holdernumber": "ann_date", "forecast": "ann_date", "express": "ann_date",
          "index_weight": "trade_date"}  # fmt: skip


def test_every_registered_module_has_a_case(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    registered = {(p.name, d) for p in rt.composer.providers.values() for d in p.modules}
    assert registered == set(CASES)


@pytest.mark.parametrize(("provider", "dataset"), sorted(CASES))
def test_provider_answers_the_standard_model(
    make_runtime: RuntimeFactory, tdx: FakeTdx, searxng: FakeSearxng, google: FakeGoogleCSE,
    dashscope: FakeDashScope, provider: str, dataset: str,
) -> None:  # fmt: skip
    rt = make_runtime(tdx_servers=[tdx_server(tdx)], searxng_url=searxng.url, **google.settings(),
                      **dashscope.settings())  # fmt: skip
    query = CASES[(provider, dataset)]
    fetched = rt.composer.providers[provider].call(query, "req-1")
    rows, spec = fetched.rows, DATASETS[dataset]
    assert len(rows) > 0 and list(rows.columns) == list(spec.columns)
    assert not rows[list(spec.key)].isna().any().any()
    if "ts_code" in rows and query.code != "*":
        assert set(rows["ts_code"]) == {query.code}
    if dataset in _DATED:
        days = rows[_DATED[dataset]].dropna()
        assert days.min() >= query.start and days.max() <= query.end
    assert fetched.raw.source == provider and fetched.raw.items and fetched.raw.request_id == "req-1"


def test_every_a_share_source_has_the_same_close(make_runtime: RuntimeFactory, tdx: FakeTdx) -> None:
    rt = make_runtime(tdx_servers=[tdx_server(tdx)])
    query = Query("daily", "600519.SH", "cn", D(2024, 6, 20), D(2024, 6, 20))
    closes = {}
    for name in ("tushare", "akshare", "pytdx", "yahoo"):
        rows = rt.composer.providers[name].call(query).rows
        closes[name] = float(rows.loc[rows["trade_date"] == query.end, "close"].iloc[0])
    assert set(closes.values()) == {1500.1}, closes


def test_spot_is_the_whole_market_in_canonical_units(make_runtime: RuntimeFactory) -> None:
    rt = make_runtime()
    rows = rt.composer.providers["akshare"].call(CASES[("akshare", "spot")]).rows
    assert len(rows) == 149  # two pages of 100 at the stand-in
    moutai = rows[rows["ts_code"] == "600519.SH"].iloc[0]
    assert moutai["price"] == 1467.5  # the 2026-04-15 close, as PROVENANCE.md's cross-check says
