"""tushare `stock_basic`: the listed instruments (one code, or the whole market when code is "*")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import ALL, Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "stock_basic"
MARKETS = frozenset({"cn"})
API = "stock_basic"
WHOLE_MARKET = True
FIELDS = "ts_code,name,area,industry,market,list_date,cnspell"


def translate_query(query: Query) -> dict[str, Any]:
    scope = {} if query.code == ALL else {"ts_code": query.code}
    return {**scope, "list_status": "L", "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
