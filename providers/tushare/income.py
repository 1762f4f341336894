"""tushare `income` (利润表): income statements per report, by announcement date.

Amounts are in yuan and EPS in yuan per share, as tushare sends them. Only the consolidated
statement (report_type 1, 合并报表) is kept: it is cumulative from January, which is what a
period's kind (Q1, H1, Q3, annual) says; the single-quarter and parent-only types are other
figures under the same period. tushare re-sends a statement (update_flag 0 and 1 under one
announcement): the updated one is kept. A restatement (a later `ann_date`) is kept beside the
original, so that a question about a day before it gets the figures public then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "income"
MARKETS = frozenset({"cn"})
API = "income"
FIELDS = "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,revenue,operate_profit,n_income_attr_p,basic_eps"
CONSOLIDATED = 1


def translate_query(query: Query) -> dict[str, Any]:
    """Statements announced in [start, end] (tushare's start_date/end_date of `income` are ann_dates)."""
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = payload.frame()
    if not len(frame):
        return frame
    if "report_type" in frame.columns:
        frame = frame[pd.to_numeric(frame["report_type"], errors="coerce") == CONSOLIDATED]
    order = ["end_date", "ann_date", *(["update_flag"] if "update_flag" in frame.columns else [])]
    frame = frame.sort_values(order, kind="stable")
    return frame.drop_duplicates(["ts_code", "end_date", "ann_date"], keep="last")
