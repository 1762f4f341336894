"""tushare `income` (利润表): income statements per report, by announcement date.

Amounts are in yuan and EPS in yuan per share, as tushare sends them; the consolidated
statement is cumulative from January, which is what a period's kind (Q1, H1, Q3, annual) says
(`client.statements` says which rows are kept).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, statements, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "income"
MARKETS = frozenset({"cn"})
API = "income"
FIELDS = "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,revenue,operate_profit,n_income_attr_p,basic_eps"


def translate_query(query: Query) -> dict[str, Any]:
    """Statements announced in [start, end] (tushare's start_date/end_date of `income` are ann_dates)."""
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return statements(payload)
