"""akshare `stock_financial_analysis_indicator_em`: Eastmoney F10 main financial indicators.

Eastmoney names its fields in pinyin initials; the mapping below is to tushare's names, with
the same units (percentages as percentages, per-share values in CNY). ROE is Eastmoney's
weighted ROE (ROEJQ), which tushare also reports as `roe` for most issuers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import AkshareClient
from providers.contract import Payload, Query

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fina_indicator"
MARKETS = frozenset({"cn"})
API = "stock_financial_analysis_indicator_em"
FIELDS = {
    "NOTICE_DATE": "ann_date", "REPORT_DATE": "end_date", "EPSJB": "eps", "BPS": "bps", "ROEJQ": "roe",
    "ZZCJLL": "roa", "XSMLL": "grossprofit_margin", "XSJLL": "netprofit_margin", "ZCFZL": "debt_to_assets",
    "LD": "current_ratio", "TOTALOPERATEREVETZ": "or_yoy", "PARENTNETPROFITTZ": "netprofit_yoy",
}  # fmt: skip


def translate_query(query: Query) -> dict[str, Any]:
    return {"symbol": query.code, "indicator": "按报告期"}


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    return Payload.of(API, ak.stock_financial_analysis_indicator_em(**params))


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = payload.frame()
    out = pd.DataFrame({ours: frame.get(theirs) for theirs, ours in FIELDS.items()})
    out.insert(0, "ts_code", query.code)
    if out.empty:
        return out
    announced = pd.to_datetime(out["ann_date"].astype(str).str.slice(0, 10), errors="coerce").dt.date
    out = out[(announced >= query.start) & (announced <= query.end)]
    out = out.sort_values(["end_date", "ann_date"], kind="stable")
    return out.drop_duplicates(["end_date", "ann_date"], keep="last")
