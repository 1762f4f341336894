"""tushare `adj_factor`: cumulative adjustment factors (hfq = raw x factor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from providers.symbols import tushare_date
from providers.tushare.frames import numbers, require, select

API = "adj_factor"
TABLE = "norm_adj_factor"
COLUMNS = ["ts_code", "trade_date", "adj_factor"]


def translate_query(ts_code: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"ts_code": ts_code, "start_date": tushare_date(start), "end_date": tushare_date(end)}


def translate_result(df: pd.DataFrame) -> pd.DataFrame:
    require(df, COLUMNS, API)
    return numbers(select(df, COLUMNS, ["trade_date"], API), ["adj_factor"], API)
