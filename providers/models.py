"""Standard models: the only shapes the store, the tools and the composer ever see.

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


# Unit of every metric, in the dataclasses' field order (SELECTs and constructors rely on it).
VALUATION_UNITS = {
    "pe": "ratio", "pe_ttm": "ratio", "pb": "ratio", "ps": "ratio", "ps_ttm": "ratio",
    "dv_ratio": "percent", "dv_ttm": "percent",
    "total_share": "ten_thousand_shares", "float_share": "ten_thousand_shares",
    "total_mv": "ten_thousand_CNY", "circ_mv": "ten_thousand_CNY", "turnover_rate": "percent",
}  # fmt: skip
INDICATOR_UNITS = {
    "eps": "CNY_per_share", "bps": "CNY_per_share", "roe": "percent", "roa": "percent",
    "grossprofit_margin": "percent", "netprofit_margin": "percent", "debt_to_assets": "percent",
    "current_ratio": "ratio", "or_yoy": "percent", "netprofit_yoy": "percent",
}  # fmt: skip
VALUATION_FIELDS = tuple(VALUATION_UNITS)
INDICATOR_FIELDS = tuple(INDICATOR_UNITS)


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


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A dataset's standard columns, as providers must hand them over and the store keeps them."""

    name: str
    table: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # what identifies a row (never empty); the store adds `source`
    dates: tuple[str, ...]  # columns typed as dates
    numbers: tuple[str, ...]  # columns typed as float64 (NaN for missing)


_DAY = ("ts_code", "trade_date")
# A whole-market snapshot of the moment (no trade date: `fetched_at` says when). Prices in CNY,
# vol in lots, amount in thousand CNY, market values in 10k CNY; pe is Eastmoney's dynamic P/E.
_SPOT_NUMBERS = ("price", "open", "high", "low", "pre_close", "vol", "amount", "pe_dynamic", "pb", "total_mv",
                 "circ_mv")  # fmt: skip
_BAR_NUMBERS = ("open", "high", "low", "close", "pre_close", "vol", "amount")
DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "daily", "norm_daily", ("ts_code", "trade_date", *_BAR_NUMBERS, "currency"), _DAY, ("trade_date",),
            _BAR_NUMBERS,
        ),
        DatasetSpec("adj_factor", "norm_adj_factor", ("ts_code", "trade_date", "adj_factor"), _DAY,
                    ("trade_date",), ("adj_factor",)),
        DatasetSpec("trade_cal", "norm_trade_cal", ("exchange", "cal_date", "is_open", "pretrade_date"),
                    ("exchange", "cal_date"), ("cal_date", "pretrade_date"), ()),
        DatasetSpec("daily_basic", "norm_daily_basic", ("ts_code", "trade_date", "close", *VALUATION_FIELDS),
                    _DAY, ("trade_date",), ("close", *VALUATION_FIELDS)),
        DatasetSpec("fina_indicator", "norm_fina_indicator", ("ts_code", "ann_date", "end_date", *INDICATOR_FIELDS),
                    ("ts_code", "end_date", "ann_date"), ("end_date", "ann_date"), INDICATOR_FIELDS),
        DatasetSpec("spot", "norm_spot", ("ts_code", "name", *_SPOT_NUMBERS), ("ts_code",), (), _SPOT_NUMBERS),
        DatasetSpec("stock_basic", "norm_stock_basic", ("ts_code", "name", "area", "industry", "market", "list_date"),
                    ("ts_code",), ("list_date",), ()),
        DatasetSpec("macro", "norm_macro", ("indicator", "period", "value", "yoy", "mom"), ("indicator", "period"),
                    ("period",), ("value", "yoy", "mom")),
    )
}  # fmt: skip
