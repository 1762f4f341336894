"""tushare `index_daily` (指数日线行情): index levels in points, vol in lots (手), amount in thousand CNY.

tushare caps an answer at 8,000 rows and has no Shenwan (申万) indexes here (they need 5,000 points)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "index_daily"
MARKETS = frozenset({"cn"})
API = "index_daily"
FIELDS = "ts_code,trade_date,open,high,low,close,pre_close,vol,amount"


def translate_query(query: Query) -> dict[str, Any]:
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
