"""tushare `fina_indicator`: per-report financial indicators.

tushare returns duplicate rows for a period (restatements, re-announcements); the newest
announcement of each report period wins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from providers.models import INDICATOR_FIELDS
from providers.symbols import tushare_date
from providers.tushare.frames import numbers, require, select

API = "fina_indicator"
TABLE = "norm_fina_indicator"
COLUMNS = ["ts_code", "ann_date", "end_date", *INDICATOR_FIELDS]


def translate_query(ts_code: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Reports announced in [start, end]."""
    return {"ts_code": ts_code, "start_date": tushare_date(start), "end_date": tushare_date(end)}


def translate_result(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(**{c: None for c in INDICATOR_FIELDS if c not in df.columns})
    require(df, ["ts_code", "ann_date", "end_date"], API)
    out = numbers(select(df, COLUMNS, ["end_date", "ann_date"], API), INDICATOR_FIELDS, API)
    out = out.sort_values(["end_date", "ann_date"], kind="stable")
    return out.drop_duplicates(["ts_code", "end_date"], keep="last").reset_index(drop=True)
