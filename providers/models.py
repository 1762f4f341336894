"""Standard models: the only shapes the store, the tools and the composer ever see.

Units are canonical and fixed here, whichever provider served the numbers: prices in CNY,
volume in lots of 100 shares, amount in thousand CNY, share counts in 10k shares and
market values in 10k CNY (tushare's units). Providers convert at their boundary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DailyBar:
    ts_code: str
    trade_date: dt.date
    open: float
    high: float
    low: float
    close: float
    pre_close: float | None
    vol: float  # lots of 100 shares
    amount: float  # thousand CNY


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
