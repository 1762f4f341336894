"""tushare `cashflow` (现金流量表): cash flow statements per report, by announcement date.

Amounts are in yuan, as tushare sends them, cumulative from January like the income statement;
`client.statements` says which rows are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, statements, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "cashflow"
MARKETS = frozenset({"cn"})
API = "cashflow"
FIELDS = (
    "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,n_cashflow_act,n_cashflow_inv_act,"
    "n_cash_flows_fnc_act,n_incr_cash_cash_equ,c_cash_equ_end_period"
)


def translate_query(query: Query) -> dict[str, Any]:
    """Statements announced in [start, end] (tushare's start_date/end_date of `cashflow` are ann_dates)."""
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return statements(payload)
