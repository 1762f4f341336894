"""tushare `trade_cal`: the exchange calendar, one year per request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from providers.symbols import tushare_date
from providers.tushare.frames import require, select

API = "trade_cal"
TABLE = "norm_trade_cal"
COLUMNS = ["cal_date", "is_open", "pretrade_date"]


def translate_query(exchange: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"exchange": exchange, "start_date": tushare_date(start), "end_date": tushare_date(end)}


def translate_result(df: pd.DataFrame, exchange: str) -> pd.DataFrame:
    require(df, COLUMNS, API)
    out = select(df, COLUMNS, ["cal_date", "pretrade_date"], API)
    out["is_open"] = pd.to_numeric(out["is_open"]).astype(int) == 1
    out.insert(0, "exchange", exchange)
    return out
