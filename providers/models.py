"""Standard models: the only shapes the store, the tools and the composer ever see, and the one
declaration of each dataset (`DATASETS`), from which its table, reads and claims are derived.

Units are canonical and fixed here, whichever provider served the numbers. A-shares: prices in CNY,
volume in lots of 100 shares, amount in thousand CNY, share counts in 10k shares and
market values in 10k CNY (tushare's units). Global tickers: prices in their native currency
(`currency`), volume in shares, no amount. Providers convert at their boundary; `providers.units`
checks the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from providers.declaration import Column, Dataset, day, number, text

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the A-share exchanges' clock: trade dates are Shanghai days


@dataclass(frozen=True, slots=True)
class DailyBar:
    ts_code: str
    trade_date: dt.date
    open: float
    high: float
    low: float
    close: float
    pre_close: float | None
    vol: float  # lots of 100 shares (A-shares); shares (global)
    amount: float | None  # thousand CNY (A-shares); None where the upstream gives none
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class Valuation:
    """One row of tushare `daily_basic`; shares in 10k, market values in 10k CNY, ratios plain."""

    ts_code: str
    trade_date: dt.date
    close: float | None
    pe: float | None
    pe_ttm: float | None
    pb: float | None
    ps: float | None
    ps_ttm: float | None
    dv_ratio: float | None  # percent
    dv_ttm: float | None  # percent
    total_share: float | None
    float_share: float | None
    total_mv: float | None
    circ_mv: float | None
    turnover_rate: float | None  # percent


@dataclass(frozen=True, slots=True)
class FinancialIndicators:
    """One report period of tushare `fina_indicator` (percent fields are percentages)."""

    ts_code: str
    ann_date: dt.date | None
    end_date: dt.date
    eps: float | None
    bps: float | None
    roe: float | None
    roa: float | None
    grossprofit_margin: float | None
    netprofit_margin: float | None
    debt_to_assets: float | None
    current_ratio: float | None
    or_yoy: float | None
    netprofit_yoy: float | None


# Sources whose adjustment factors are relative to their latest bar (1 there), not cumulative
# from listing: qfq (a ratio) is right with them, hfq is not defined.
RELATIVE_FACTORS = frozenset({"yahoo"})


@dataclass(frozen=True, slots=True)
class Instrument:
    """One listed security (tushare `stock_basic`)."""

    ts_code: str
    name: str | None
    area: str | None
    industry: str | None
    market: str | None  # 主板 / 创业板 / 科创板 / 北交所
    list_date: dt.date | None
    cnspell: str | None = None  # pinyin initials of the name (GZMT)


SHIBOR_TENORS = ("overnight", "w1", "w2", "m1", "m3", "m6", "m9", "y1")  # tushare: on, 1w, 2w, 1m, 3m, 6m, 9m, 1y
# The declarations: each dataset once (see `providers.declaration` for what is derived from them).
# Units are A-shares' canonical ones; a global ticker's prices are in its `currency`, its volume in shares.
_CODE, _TRADE_DATE = text("ts_code"), day("trade_date")
_DAY = ("ts_code", "trade_date")
_PRICE = "CNY"
_BAR = (number("open", _PRICE), number("high", _PRICE), number("low", _PRICE), number("close", _PRICE),
        number("pre_close", _PRICE), number("vol", "lots_100shares"), number("amount", "thousand_CNY"))  # fmt: skip
_VALUATION = (
    number("pe", "ratio"), number("pe_ttm", "ratio"), number("pb", "ratio"), number("ps", "ratio"),
    number("ps_ttm", "ratio"), number("dv_ratio", "percent"), number("dv_ttm", "percent"),
    number("total_share", "ten_thousand_shares"), number("float_share", "ten_thousand_shares"),
    number("total_mv", "ten_thousand_CNY"), number("circ_mv", "ten_thousand_CNY"), number("turnover_rate", "percent"),
)  # fmt: skip
_INDICATORS = (
    number("eps", "CNY_per_share"), number("bps", "CNY_per_share"), number("roe", "percent"), number("roa", "percent"),
    number("grossprofit_margin", "percent"), number("netprofit_margin", "percent"),
    number("debt_to_assets", "percent"), number("current_ratio", "ratio"), number("or_yoy", "percent"),
    number("netprofit_yoy", "percent"),
)  # fmt: skip
# A whole-market snapshot of the moment (no trade date: `fetched_at` says when); pe is Eastmoney's dynamic P/E.
_SPOT = (
    number("price", _PRICE), *(number(n, _PRICE) for n in ("open", "high", "low", "pre_close")),
    number("vol", "lots_100shares"), number("amount", "thousand_CNY"), number("pe_dynamic", "ratio"),
    number("pb", "ratio"), number("total_mv", "ten_thousand_CNY"), number("circ_mv", "ten_thousand_CNY"),
)  # fmt: skip
_BAR_PRICES = ("open", "high", "low", "close", "pre_close")  # index and fund bars, in the order tushare sends
DATASETS: dict[str, Dataset] = {
    spec.name: spec
    for spec in (
        Dataset("daily", (_CODE, _TRADE_DATE, *_BAR, text("currency")), _DAY, "trade_date",
                markets=frozenset({"cn", "global"})),
        Dataset("adj_factor", (_CODE, _TRADE_DATE, number("adj_factor", "ratio")), _DAY, "trade_date",
                markets=frozenset({"cn", "global"})),
        Dataset("trade_cal", (text("exchange"), day("cal_date"), Column("is_open", "flag"), day("pretrade_date")),
                ("exchange", "cal_date"), "cal_date"),
        Dataset("daily_basic", (_CODE, _TRADE_DATE, number("close", _PRICE, claim=False), *_VALUATION), _DAY,
                "trade_date", title="valuation"),
        # Restatements are kept (ann_date in the key): a day before one still gets the figures public then.
        Dataset("fina_indicator", (_CODE, day("ann_date"), day("end_date"), *_INDICATORS),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="financial indicators"),
        # 利润表, consolidated and cumulative from January; restatements kept, as for fina_indicator.
        Dataset("income", (_CODE, day("ann_date"), day("end_date"), number("revenue", "CNY"),
                           number("operate_profit", "CNY"), number("n_income_attr_p", "CNY"),
                           number("basic_eps", "CNY_per_share")),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="income statements"),
        # 资产负债表 and 现金流量表, consolidated; kept as income is.
        Dataset("balancesheet", (_CODE, day("ann_date"), day("end_date"), number("total_assets", "CNY"),
                                 number("total_liab", "CNY"), number("total_hldr_eqy_exc_min_int", "CNY"),
                                 number("total_hldr_eqy_inc_min_int", "CNY")),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="balance sheets"),
        Dataset("cashflow", (_CODE, day("ann_date"), day("end_date"), number("n_cashflow_act", "CNY"),
                             number("n_cashflow_inv_act", "CNY"), number("n_cash_flows_fnc_act", "CNY"),
                             number("n_incr_cash_cash_equ", "CNY"), number("c_cash_equ_end_period", "CNY")),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="cash flow statements"),
        Dataset("spot", (_CODE, text("name"), *_SPOT), ("ts_code",), rule="replace"),
        # cnspell: tushare's pinyin initials of the name (贵州茅台 GZMT), what `lookup` matches "gzmt" by.
        Dataset("stock_basic", (_CODE, text("name"), text("area"), text("industry"), text("market"), day("list_date"),
                                text("cnspell")), ("ts_code",), "list_date", rule="replace"),
        Dataset("macro", (text("indicator"), day("period"), number("value", "index"), number("yoy", "percent"),
                          number("mom", "percent")), ("indicator", "period"), "period"),
        # 货币供应量 M0/M1/M2: month-end balances in 亿元, yoy and mom in percent (tushare cn_m).
        Dataset("money_supply", (text("indicator"), day("period"), number("value", "hundred_million_CNY"),
                                 number("yoy", "percent"), number("mom", "percent")),
                ("indicator", "period"), "period", title="money supply"),
        # 社会融资规模 (aggregate financing to the real economy, PBoC): the month's increment and the year's
        # cumulative increment in 亿元, the month-end stock in 万亿元 (tushare sf_month), kept as the source gives them.
        Dataset("social_financing", (text("indicator"), day("period"), number("inc_month", "hundred_million_CNY"),
                                     number("inc_cumval", "hundred_million_CNY"), number("stk_endval", "trillion_CNY")),
                ("indicator", "period"), "period", title="social financing"),
        # Shibor (上海银行间同业拆放利率), percent a year by tenor, fixed at 11:00 each interbank working day
        # (some are SSE-closed make-up days); tushare's columns on, 1w … 1y, renamed to be SQL names.
        Dataset("shibor", (text("indicator"), day("date"), *(number(t, "percent") for t in SHIBOR_TENORS)),
                ("indicator", "date"), "date", title="Shibor"),
        # A result of a web search; published_at is UTC ISO 8601 or missing, engines a JSON list.
        Dataset("search", tuple(map(text, ("title", "url", "snippet", "published_at", "engines"))), ("url",),
                markets=frozenset({"web"}), title="web search results", stored=False),
        # Index bars (指数日线): points; vol in lots, amount in thousand CNY (tushare's units for every index).
        Dataset("index_daily", (_CODE, _TRADE_DATE, *(number(n, "index_points") for n in _BAR_PRICES),
                                number("vol", "lots_100shares"), number("amount", "thousand_CNY")),
                _DAY, "trade_date", title="index bars"),
        Dataset("index_basic", (_CODE, text("name"), text("market"), text("publisher"), text("category"),
                                day("base_date"), number("base_point", "index_points"), day("list_date")),
                ("ts_code",), title="index descriptions"),
        # ETF bars (场内基金日线), unadjusted, as A-share bars are; fund_adj's factors: hfq = close x adj_factor.
        Dataset("fund_daily", (_CODE, _TRADE_DATE, *(number(n, _PRICE) for n in _BAR_PRICES),
                               number("vol", "lots_100shares"), number("amount", "thousand_CNY")),
                _DAY, "trade_date", title="fund bars"),
        Dataset("fund_adj", (_CODE, _TRADE_DATE, number("adj_factor", "ratio")), _DAY, "trade_date",
                title="fund adjustment factors"),
        Dataset("fund_basic", (_CODE, *map(text, ("name", "management", "fund_type", "invest_type", "benchmark")),
                               day("found_date"), day("list_date"), text("status")), ("ts_code",),
                title="fund descriptions"),
        # 个股资金流向 by order size (small < 5万元 <= medium < 20万元 <= large < 100万元 <= extra large).
        Dataset("moneyflow", (_CODE, _TRADE_DATE, *(number(f"{side}_{size}_amount", "ten_thousand_CNY")
                                                    for size in ("sm", "md", "lg", "elg") for side in ("buy", "sell")),
                              number("net_mf_vol", "lots_100shares"), number("net_mf_amount", "ten_thousand_CNY")),
                _DAY, "trade_date", title="money flow"),
    )
}  # fmt: skip
# Units of the metrics `fundamentals` answers, in declared order (derived: declared once above).
VALUATION_UNITS = DATASETS["daily_basic"].units
INDICATOR_UNITS = DATASETS["fina_indicator"].units
VALUATION_FIELDS = tuple(VALUATION_UNITS)
INDICATOR_FIELDS = tuple(INDICATOR_UNITS)

# The sets: answers that are the rows of a scope as known on a day (a dividend history, a top-10 list,
# an index's constituents), not a series. Each keeps re-announcements beside the originals (ann_date in
# the key), so that a day before one still gets what was public then.
_REPORTED = (_CODE, day("ann_date"), day("end_date"))
_HOLDERS = (*_REPORTED, text("holder_name"), number("hold_amount", "shares"), number("hold_ratio", "percent"),
            number("hold_float_ratio", "percent"), number("hold_change", "shares"), text("holder_type"))  # fmt: skip
_HOLDER_KEY = ("ts_code", "end_date", "ann_date", "holder_name", "hold_amount")  # a name may hold two lines
_AMOUNTS = ("revenue", "operate_profit", "total_profit", "n_income", "total_assets", "total_hldr_eqy_exc_min_int",
            "yoy_net_profit")  # fmt: skip
DATASETS.update({
    spec.name: spec
    for spec in (
        # 分红送股, one row per stage (预案, 股东大会通过, 实施) of each plan; known_date is when the stage became
        # public (tushare's ann_date is the plan's, whatever the stage: see providers/tushare/dividend.py).
        Dataset("dividend", (_CODE, day("end_date"), day("ann_date"), text("div_proc"),
                             number("cash_div_tax", "CNY_per_share"), number("cash_div", "CNY_per_share"),
                             number("stk_div", "shares_per_share"), number("stk_bo_rate", "shares_per_share"),
                             number("stk_co_rate", "shares_per_share"), day("record_date"), day("ex_date"),
                             day("pay_date"), day("div_listdate"), day("imp_ann_date"), day("known_date")),
                ("ts_code", "end_date", "ann_date", "div_proc"), "end_date", ann_date="known_date",
                title="dividends"),
        Dataset("top10_holders", _HOLDERS, _HOLDER_KEY, "end_date", ann_date="ann_date", title="top 10 holders"),
        Dataset("top10_floatholders", _HOLDERS, _HOLDER_KEY, "end_date", ann_date="ann_date",
                title="top 10 float holders"),
        # 股东户数: published at quarter ends and at other month ends too (end_date is any day).
        Dataset("stk_holdernumber", (*_REPORTED, number("holder_num", "count")), ("ts_code", "end_date", "ann_date"),
                "end_date", ann_date="ann_date", title="holder counts"),
        # 业绩预告: a range of net profit (万元) and of its change (percent); revisions kept beside the first.
        Dataset("forecast", (*_REPORTED, text("type"), number("p_change_min", "percent"),
                             number("p_change_max", "percent"), number("net_profit_min", "ten_thousand_CNY"),
                             number("net_profit_max", "ten_thousand_CNY"),
                             number("last_parent_net", "ten_thousand_CNY"),
                             day("first_ann_date"), text("summary"), text("change_reason")),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="earnings forecasts"),
        # 业绩快报, in yuan as tushare sends it.
        Dataset("express", (*_REPORTED, *(number(n, "CNY") for n in _AMOUNTS), number("diluted_eps", "CNY_per_share"),
                            number("diluted_roe", "percent"), number("bps", "CNY_per_share"), text("perf_summary")),
                ("ts_code", "end_date", "ann_date"), "end_date", ann_date="ann_date", title="earnings express reports"),
        # An index's constituents and weights (percent) on a weight date, monthly at tushare.
        Dataset("index_weight", (text("index_code"), text("con_code"), day("trade_date"), number("weight", "percent")),
                ("index_code", "trade_date", "con_code"), "trade_date", title="index weights"),
        # 申万 industries: the classification (levels L1..L3, by version `src`) and a stock's place in it.
        # The version (src: SW2014, SW2021) is the scope: an index code names an industry in both.
        Dataset("index_classify", (text("src"), text("index_code"), text("industry_name"), text("level"),
                                   text("industry_code"), text("parent_code")), ("src", "index_code"),
                title="Shenwan industries"),
        Dataset("index_member_all", (text("ts_code"), text("name"), text("l1_code"), text("l1_name"), text("l2_code"),
                                     text("l2_name"), text("l3_code"), text("l3_name"), day("in_date"),
                                     day("out_date"), text("is_new")),
                ("ts_code", "l3_code", "in_date"), "in_date", title="Shenwan industry membership"),
    )
})  # fmt: skip
