"""tushare `adj_factor`: cumulative adjustment factors from listing (hfq = raw x factor)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from providers.contract import Payload, Query
from providers.symbols import tushare_date
from providers.tushare.client import TushareClient

DATASET = "adj_factor"
MARKETS = frozenset({"cn"})
API = "adj_factor"


def translate_query(query: Query) -> dict[str, Any]:
    return {"ts_code": query.code, "start_date": tushare_date(query.start), "end_date": tushare_date(query.end)}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
