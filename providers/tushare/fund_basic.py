"""tushare `fund_basic` (公募基金列表): a fund's name, manager, type, benchmark, founding and listing dates.

tushare answers the exchange-traded funds (market E) unless asked otherwise; a code names its market."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fund_basic"
MARKETS = frozenset({"cn"})
API = "fund_basic"
FIELDS = "ts_code,name,management,fund_type,invest_type,benchmark,found_date,list_date,status"


def translate_query(query: Query) -> dict[str, Any]:
    return {"ts_code": query.code, "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
