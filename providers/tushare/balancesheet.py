"""tushare `balancesheet` (资产负债表): balance sheets per report, by announcement date.

Amounts are in yuan, as tushare sends them, and are balances at the period's end (not
cumulative); `client.statements` says which rows are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, statements, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "balancesheet"
MARKETS = frozenset({"cn"})
API = "balancesheet"
FIELDS = (
    "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,total_assets,total_liab,"
    "total_hldr_eqy_exc_min_int,total_hldr_eqy_inc_min_int"
)


def translate_query(query: Query) -> dict[str, Any]:
    """Statements announced in [start, end] (tushare's start_date/end_date of `balancesheet` are ann_dates)."""
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return statements(payload)
