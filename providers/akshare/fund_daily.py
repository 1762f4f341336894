"""akshare `fund_etf_hist_em` with adjust="": Eastmoney's unadjusted daily bars of an ETF.

The same kline endpoint and columns as a stock's (`providers.akshare.daily`), so the same
conversion: 成交量 in lots, 成交额 in CNY (ours: thousand CNY), pre_close the close minus 涨跌额.
On a distribution day Eastmoney's 涨跌额 is taken from the undivided previous close, where
tushare's pre_close is the exchange's reference price after the distribution: the two sources'
pre_close differ on those days (510300.SH on 2024-01-18 and 2025-06-18), their closes never.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import AkshareClient
from providers.akshare.daily import bars
from providers.contract import Payload, Query
from providers.models import DATASETS
from providers.symbols import tushare_date

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fund_daily"
MARKETS = frozenset({"cn"})
API = "fund_etf_hist_em"


def translate_query(query: Query) -> dict[str, Any]:
    return {"symbol": query.code[:6], "period": "daily", "start_date": tushare_date(query.start),
            "end_date": tushare_date(query.end), "adjust": ""}  # fmt: skip


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    return Payload.of(API, ak.fund_etf_hist_em(**params))


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return bars(payload.frame(), query.code)[list(DATASETS[DATASET].columns)]
