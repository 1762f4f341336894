"""tushare `trade_cal`: the exchange calendar (the query's code is the exchange, e.g. SSE)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "trade_cal"
MARKETS = frozenset({"cn"})
API = "trade_cal"


def translate_query(query: Query) -> dict[str, Any]:
    return window(query, scope="exchange")


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = payload.frame()
    return frame.assign(exchange=query.code, is_open=pd.to_numeric(frame["is_open"]).astype(int) == 1)
