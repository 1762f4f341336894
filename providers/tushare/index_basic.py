"""tushare `index_basic` (指数基本信息): an index's name, publisher, category, base date and base point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "index_basic"
MARKETS = frozenset({"cn"})
API = "index_basic"
FIELDS = "ts_code,name,market,publisher,category,base_date,base_point,list_date"


def translate_query(query: Query) -> dict[str, Any]:
    return {"ts_code": query.code, "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
