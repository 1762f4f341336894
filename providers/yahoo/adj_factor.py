"""Dividend adjustment factors of global tickers from Yahoo's chart: adj_factor = Adj Close / Close.

Yahoo's `Close` is already split-adjusted (see `providers.yahoo.daily`), so this ratio is the
dividend part alone: the product, over every ex-date after the day, of (1 - dividend / the
close before the ex-date). It is relative to Yahoo's newest bar, the day of the fetch: that
bar, and every bar since the last ex-date, has factor 1, and older factors are below 1.

tushare's factor has the opposite base: 1 on the listing day, growing at each ex-date, so its
values are not comparable with these. The ratio between any two days is what matters, and it is
the same on either base, which is why this is still right for qfq prices,
qfq(day) = close(day) x f(day) / f(latest): the base cancels, and with Yahoo's base f(latest) = 1,
so qfq is Yahoo's Adj Close itself.

The catch is that Yahoo's base moves: after a new ex-date every earlier factor shrinks by the
same ratio. Factors from one fetch are consistent with each other; factors from fetches on
either side of an ex-date must not be divided by one another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.models import DATASETS
from providers.yahoo import daily
from providers.yahoo.client import YahooClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "adj_factor"
MARKETS = frozenset({"global"})
API = daily.API


def translate_query(query: Query) -> dict[str, Any]:
    return daily.chart_params(query, DATASET)


def fetch(client: YahooClient, params: dict[str, Any]) -> Payload:
    return daily.fetch(client, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = daily.bars(payload, query)
    if frame.empty:
        return pd.DataFrame(columns=list(DATASETS[DATASET].columns))
    factor = pd.to_numeric(frame["Adj Close"]) / pd.to_numeric(frame["Close"])
    return pd.DataFrame({"ts_code": query.code, "trade_date": frame["Date"], "adj_factor": factor}).reset_index(
        drop=True
    )
