"""akshare `stock_zh_a_hist` with adjust="": Eastmoney's unadjusted daily bars.

Never its qfq/hfq prices: Eastmoney adjusts by subtracting dividends, so they are not
tushare's multiplicative adjustment and would be wrong numbers under our labels. Units:
成交量 is in lots (as ours), 成交额 in CNY (ours: thousand CNY). pre_close is the close
minus 涨跌额 (the change), which on an ex-dividend day is the exchange's reference price.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import AkshareClient
from providers.contract import Payload, Query
from providers.models import DATASETS
from providers.symbols import tushare_date

if TYPE_CHECKING:
    import pandas as pd

DATASET = "daily"
MARKETS = frozenset({"cn"})
API = "stock_zh_a_hist"
EVER = "19700101"


def translate_query(query: Query) -> dict[str, Any]:
    start = EVER if query.latest else tushare_date(query.start)
    return {"symbol": query.code[:6], "period": "daily", "start_date": start, "end_date": tushare_date(query.end),
            "adjust": ""}  # fmt: skip


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    return Payload.of(API, ak.stock_zh_a_hist(**params, timeout=client.timeout))


def bars(frame: pd.DataFrame, code: str) -> pd.DataFrame:
    """Eastmoney's columns as standard daily bars, oldest first (shared with the factor module)."""
    import pandas as pd

    if frame.empty:
        return pd.DataFrame(columns=list(DATASETS[DATASET].columns))
    close = pd.to_numeric(frame["收盘"])
    out = pd.DataFrame(
        {
            "ts_code": code,
            "trade_date": frame["日期"].astype(str),
            "open": pd.to_numeric(frame["开盘"]),
            "high": pd.to_numeric(frame["最高"]),
            "low": pd.to_numeric(frame["最低"]),
            "close": close,
            "pre_close": (close - pd.to_numeric(frame["涨跌额"])).round(4),
            "vol": pd.to_numeric(frame["成交量"]),
            "amount": pd.to_numeric(frame["成交额"]) / 1000,
            "currency": "CNY",
        }
    )
    return out.sort_values("trade_date", kind="stable").reset_index(drop=True)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    out = bars(payload.frame(), query.code)
    return out.tail(1) if query.latest else out
