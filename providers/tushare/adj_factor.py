"""tushare `adj_factor`: cumulative adjustment factors from listing (hfq = raw x factor)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "adj_factor"
MARKETS = frozenset({"cn"})
API = "adj_factor"
WHOLE_MARKET = True  # by trade_date
PAGE_SIZE = 6000  # tushare's documented row cap per request


def translate_query(query: Query) -> dict[str, Any]:
    return window(query)


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
