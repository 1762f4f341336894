"""tushare `fund_adj` (基金复权因子): cumulative adjustment factors of a fund (hfq = close x factor)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fund_adj"
MARKETS = frozenset({"cn"})
API = "fund_adj"
FIELDS = "ts_code,trade_date,adj_factor"


def translate_query(query: Query) -> dict[str, Any]:
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
