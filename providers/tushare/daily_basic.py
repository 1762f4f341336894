"""tushare `daily_basic`: valuation per day (shares in 10k, market values in 10k CNY)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from providers.models import VALUATION_FIELDS
from providers.symbols import tushare_date
from providers.tushare.frames import numbers, require, select

API = "daily_basic"
TABLE = "norm_daily_basic"
NUMBERS = ["close", *VALUATION_FIELDS]
COLUMNS = ["ts_code", "trade_date", *NUMBERS]
OPTIONAL = ("dv_ratio", "dv_ttm", "turnover_rate", "ps_ttm")  # absent from older pulls


def translate_query(ts_code: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"ts_code": ts_code, "start_date": tushare_date(start), "end_date": tushare_date(end)}


def translate_result(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(**{c: None for c in OPTIONAL if c not in df.columns})
    require(df, COLUMNS, API)
    return numbers(select(df, COLUMNS, ["trade_date"], API), NUMBERS, API)
