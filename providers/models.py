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
class AdjFactor:
    ts_code: str
    trade_date: dt.date
    adj_factor: float


@dataclass(frozen=True, slots=True)
class TradeDay:
    exchange: str
    cal_date: dt.date
    is_open: bool
    pretrade_date: dt.date | None


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


VALUATION_FIELDS = (
    "pe", "pe_ttm", "pb", "ps", "ps_ttm", "dv_ratio", "dv_ttm",
    "total_share", "float_share", "total_mv", "circ_mv", "turnover_rate",
)  # fmt: skip
INDICATOR_FIELDS = (
    "eps", "bps", "roe", "roa", "grossprofit_margin", "netprofit_margin",
    "debt_to_assets", "current_ratio", "or_yoy", "netprofit_yoy",
)  # fmt: skip
