"""tushare `cn_m` (货币供应量): China's month-end M0, M1 and M2 in 亿元, with yoy and mom in percent.

The query's code names the aggregate (m0, m1 or m2); one cn_m row carries all three, so each is
its own row of the `money_supply` dataset. Months are asked and kept as for `macro`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import NoData
from providers.tushare.client import NAME, TushareClient
from providers.tushare.macro import month_window, monthly

if TYPE_CHECKING:
    import pandas as pd

DATASET = "money_supply"
MARKETS = frozenset({"cn"})
API = "cn_m"
AGGREGATES = ("m0", "m1", "m2")


def translate_query(query: Query) -> dict[str, Any]:
    aggregate = query.code.lower()
    if aggregate not in AGGREGATES:
        raise NoData(f"tushare cn_m has no aggregate {query.code!r}", provider=NAME, dataset=DATASET)
    return month_window(query, (aggregate, f"{aggregate}_yoy", f"{aggregate}_mom"))


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    aggregate = query.code.lower()
    return monthly(payload, query, {"value": aggregate, "yoy": f"{aggregate}_yoy", "mom": f"{aggregate}_mom"})
