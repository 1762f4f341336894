"""tushare `daily_basic`: valuation per day (shares in 10k, market values in 10k CNY)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.symbols import tushare_date
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "daily_basic"
MARKETS = frozenset({"cn"})
API = "daily_basic"
WHOLE_MARKET = True  # by trade_date
PAGE_SIZE = 6000  # tushare's documented row cap per request
OPTIONAL = ("dv_ratio", "dv_ttm", "turnover_rate", "ps_ttm")  # absent from older pulls


def translate_query(query: Query) -> dict[str, Any]:
    if query.latest:  # the newest valuation however old: a long suspension, an upstream behind
        return {"ts_code": query.code, "end_date": tushare_date(query.end), "limit": 1}
    return window(query)


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    frame = payload.frame()
    return frame.assign(**{c: None for c in OPTIONAL if c not in frame.columns})
