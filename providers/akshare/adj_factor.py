"""Adjustment factors from akshare's unadjusted Eastmoney bars, the way tushare defines them.

tushare's factor moves only on ex-dates, by adj(t) / adj(t-1) = close(t-1) / pre_close(t),
where pre_close is the exchange's ex-dividend reference price; it starts at 1 on the first
listed day. Eastmoney's unadjusted history since listing carries close and the change
(so pre_close), which gives the same chain in one request. akshare's own factor calls go
to Sina and `eval` the response text, which we will not run on an upstream's answer.

Away from ex-dates the ratio is 1 up to float noise, which is snapped to exactly 1 so that
thousands of days do not drift. Factors agree with tushare's up to its 3-4 decimals when
the upstream history reaches back to listing; qfq needs only ratios and agrees regardless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import AkshareClient
from providers.akshare.daily import EVER, bars
from providers.contract import Payload, Query
from providers.symbols import tushare_date

if TYPE_CHECKING:
    import pandas as pd

DATASET = "adj_factor"
MARKETS = frozenset({"cn"})
API = "stock_zh_a_hist"
_NOISE = 1e-9


def translate_query(query: Query) -> dict[str, Any]:
    return {"symbol": query.code[:6], "period": "daily", "start_date": EVER, "end_date": tushare_date(query.end),
            "adjust": ""}  # fmt: skip


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    return Payload.of(API, ak.stock_zh_a_hist(**params, timeout=client.timeout))


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    daily = bars(payload.frame(), query.code)
    if daily.empty:
        return pd.DataFrame(columns=["ts_code", "trade_date", "adj_factor"])
    ratio = (daily["close"].shift(1) / daily["pre_close"]).fillna(1.0)
    ratio = ratio.where((ratio - 1).abs() > _NOISE, 1.0)
    factors = pd.DataFrame(
        {"ts_code": query.code, "trade_date": daily["trade_date"], "adj_factor": np.round(ratio.cumprod(), 6)}
    )
    first, last = query.start.isoformat(), query.end.isoformat()
    return factors[(factors["trade_date"] >= first) & (factors["trade_date"] <= last)]
