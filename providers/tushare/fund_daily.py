"""tushare `fund_daily` (ETF日线行情): unadjusted exchange-traded fund bars, prices in CNY, vol in lots, amount
in thousand CNY; at most 2,000 rows an answer (the reader asks long windows in parts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fund_daily"
MARKETS = frozenset({"cn"})
API = "fund_daily"
FIELDS = "ts_code,trade_date,open,high,low,close,pre_close,vol,amount"


def translate_query(query: Query) -> dict[str, Any]:
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
