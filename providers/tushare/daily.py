"""tushare `daily`: unadjusted daily bars, already in canonical units (vol in lots, amount in thousand CNY)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.symbols import tushare_date
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "daily"
MARKETS = frozenset({"cn"})
API = "daily"
WHOLE_MARKET = True  # by trade_date
PAGE_SIZE = 6000  # tushare's documented row cap per request


def translate_query(query: Query) -> dict[str, Any]:
    if query.latest:  # the newest bar however old: a long suspension has no bar in any window
        return {"ts_code": query.code, "end_date": tushare_date(query.end), "limit": 1}
    return window(query)


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame().assign(currency="CNY")
