"""tushare `index_member_all`: a stock's place in the Shenwan (申万) classification, L1 to L3.

Asked by code with tushare's default (the current membership, is_new Y); `in_date` is when the
stock joined the industry, `out_date` when it left (none while it is a member).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "index_member_all"
MARKETS = frozenset({"cn"})
API = "index_member_all"


def translate_query(query: Query) -> dict[str, Any]:
    return {"ts_code": query.code}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
