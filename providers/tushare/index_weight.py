"""tushare `index_weight`: an index's constituents and their weights (percent) on its weight dates.

tushare publishes weights monthly; the query's code is the index code (399300.SZ, 000905.SH). Rows
come newest first, so a window wider than the row cap still holds its newest weight dates whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.symbols import tushare_date
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "index_weight"
MARKETS = frozenset({"cn"})
API = "index_weight"


def translate_query(query: Query) -> dict[str, Any]:
    return {"index_code": query.code, "start_date": tushare_date(query.start), "end_date": tushare_date(query.end)}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    frame = payload.frame()
    return frame.drop_duplicates(["index_code", "trade_date", "con_code"]) if len(frame) else frame
