"""Yahoo's daily chart as standard bars: global tickers, and A-shares to cross-check other sources.

What Yahoo's numbers are, and so what we store:

- `Close` (yfinance with auto_adjust=False) is split-adjusted but not dividend-adjusted. It is
  what we store as the raw close: Yahoo has no truly unadjusted series, so before a split the
  stored prices are the traded prices divided by the split ratio (AAPL closed at 157.92 on
  2019-01-02; Yahoo, and we, say 39.48 after the 2020 4:1 split). Dividends live in the factor
  (`providers.yahoo.adj_factor`).
- Global tickers: prices in the chart's currency (`meta.currency`, kept as Yahoo labels it, so
  LSE prices stay in pence, "GBp"), volume in shares. Yahoo gives no turnover and no previous
  close of its own, so amount and pre_close are missing, not derived.
- A-shares (600519.SH asked as 600519.SS, .SZ as is; Yahoo lists no .BJ shares): volume in
  shares becomes lots (/100) and the currency must be CNY, as for every other A-share source.
  amount is missing, so the amount/volume unit check has nothing to test.
- `ts_code` is the code we were asked, not Yahoo's ticker; `trade_date` is the exchange-local
  date of the bar (yfinance dates daily bars in the exchange's timezone).

Yahoo's `end` is exclusive, so we ask for end + 1 day. `latest` asks for the last weeks before `end`
and keeps the newest bar; only when those hold none (a long suspension) is the whole history asked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.models import DATASETS
from providers.yahoo.client import COLUMNS, YahooClient, yahoo_ticker

if TYPE_CHECKING:
    import pandas as pd

DATASET = "daily"
MARKETS = frozenset({"global", "cn"})
API = "chart"
EVER = dt.date(1970, 1, 2)  # before any Yahoo history; 1970-01-01 in a UTC exchange is timestamp 0: "no start"
RECENT = dt.timedelta(days=21)  # holds a bar unless the ticker stopped trading: what `latest` asks first
FIELDS = ["Date", *COLUMNS]


def chart_params(query: Query, dataset: str) -> dict[str, Any]:
    """The chart request for a query (shared with the factor module)."""
    start = query.end - RECENT if query.latest else query.start
    params = {"ticker": yahoo_ticker(query, dataset), "start": start.isoformat(),
              "end": (query.end + dt.timedelta(days=1)).isoformat(), "interval": "1d"}  # fmt: skip
    return {**params, "latest": True} if query.latest else params


def translate_query(query: Query) -> dict[str, Any]:
    return chart_params(query, DATASET)


def fetch(client: YahooClient, params: dict[str, Any]) -> Payload:
    import pandas as pd

    start, end = dt.date.fromisoformat(params["start"]), dt.date.fromisoformat(params["end"])
    frame, meta = client.chart(params["ticker"], start, end)
    if frame.empty and params.get("latest"):
        params["start"] = EVER.isoformat()
        frame, meta = client.chart(params["ticker"], EVER, end)
    rows = frame.reset_index(drop=True)
    rows.insert(0, "Date", list(pd.DatetimeIndex(frame.index).strftime("%Y-%m-%d")))  # the exchange's dates
    return Payload.of(API, rows[FIELDS], ticker=params["ticker"], **meta)


def bars(payload: Payload, query: Query) -> pd.DataFrame:
    """The chart's rows up to `query.end`, oldest first (the newest alone when `latest`)."""
    frame = payload.frame()
    if frame.empty:
        return frame
    frame = frame[frame["Date"] <= query.end.isoformat()].sort_values("Date", kind="stable")
    return frame.tail(1) if query.latest else frame


def charted(values: pd.Series) -> list[float]:
    """Prices as Yahoo has them. Yahoo keeps prices as 32-bit floats and sends each one's 64-bit
    expansion (a close of 85.7475 arrives as 85.74749755859375): the shortest decimal that is the
    same 32-bit float is the price at the source's precision."""
    import numpy as np
    import pandas as pd

    numbers = pd.to_numeric(values).to_numpy(dtype="float64")
    return [float(np.format_float_positional(np.float32(v), unique=True)) if v == v else np.nan for v in numbers]


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    frame = bars(payload, query)
    if frame.empty:
        return pd.DataFrame(columns=list(DATASETS[DATASET].columns))
    volume = pd.to_numeric(frame["Volume"])
    return pd.DataFrame(
        {
            "ts_code": query.code,
            "trade_date": frame["Date"],
            "open": charted(frame["Open"]),
            "high": charted(frame["High"]),
            "low": charted(frame["Low"]),
            "close": charted(frame["Close"]),
            "pre_close": np.nan,
            "vol": volume / 100 if query.market == "cn" else volume,
            "amount": np.nan,
            "currency": payload.meta.get("currency"),
        }
    ).reset_index(drop=True)
