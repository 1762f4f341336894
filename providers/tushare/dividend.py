"""tushare `dividend` (分红送股): every dividend plan of a company, one row per stage it reached.

tushare sends a plan once per stage (预案 the board's plan, 股东大会通过 approved, 实施 carried out),
each with the plan's announcement date as `ann_date`. The record and ex dates of a 实施 row were only
public from its implementation announcement (`imp_ann_date`), so `known_date`, the day a row became
public, is that for 实施. tushare gives an approval no date of its own: it is dated by the plan's 实施
announcement when there is one (it was certainly public by then), else by the plan's announcement.
A row without an announcement date is never known to have been public, and is left out. The
interface takes no date window: a question gets the whole history of its code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "dividend"
MARKETS = frozenset({"cn"})
API = "dividend"
FIELDS = ("ts_code,end_date,ann_date,div_proc,stk_div,stk_bo_rate,stk_co_rate,cash_div,cash_div_tax,record_date,"
          "ex_date,pay_date,div_listdate,imp_ann_date")  # fmt: skip
CARRIED_OUT, APPROVED = "实施", "股东大会通过"


def translate_query(query: Query) -> dict[str, Any]:
    return {"ts_code": query.code, "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    frame = payload.frame()
    if not len(frame):
        return frame.assign(known_date=None)
    frame = frame[frame["ann_date"].notna() & frame["div_proc"].notna()]
    plan = ["ts_code", "end_date", "ann_date"]
    carried = frame[(frame["div_proc"] == CARRIED_OUT) & frame["imp_ann_date"].notna()]
    implemented = carried.drop_duplicates(plan).set_index(plan)["imp_ann_date"]
    by_plan = frame.join(implemented.rename("plan_implemented"), on=plan)
    known = by_plan["ann_date"].where(by_plan["div_proc"] != APPROVED, by_plan["plan_implemented"])
    known = known.where(by_plan["div_proc"] != CARRIED_OUT, by_plan["imp_ann_date"])
    frame = frame.assign(known_date=known.fillna(frame["ann_date"]))
    return frame.drop_duplicates(["ts_code", "end_date", "ann_date", "div_proc"], keep="last")
