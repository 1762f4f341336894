"""tushare `index_classify`: the Shenwan (申万) industry classification of one version (the query's
code: SW2014 or SW2021), each industry with its level (L1..L3) and parent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "index_classify"
MARKETS = frozenset({"cn"})
API = "index_classify"
FIELDS = "index_code,industry_name,level,industry_code,is_pub,parent_code,src"


def translate_query(query: Query) -> dict[str, Any]:
    return {"src": query.code, "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    frame = payload.frame()
    return frame.assign(src=frame["src"].fillna(query.code)) if len(frame) else frame.assign(src=None)
