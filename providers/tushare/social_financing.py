"""tushare `sf_month` (社会融资规模): the month's increment, the year's cumulative increment (亿元) and
the month-end stock (万亿元) of aggregate financing to the real economy, as PBoC publishes them.

The query's code is the indicator ("sf"); months are asked and kept as for `macro`, and the units
stay the source's (the stock in trillion CNY), which the declaration names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import NoData
from providers.tushare.client import NAME, TushareClient
from providers.tushare.macro import month_window, monthly

if TYPE_CHECKING:
    import pandas as pd

DATASET = "social_financing"
MARKETS = frozenset({"cn"})
API = "sf_month"
FIELDS = ("inc_month", "inc_cumval", "stk_endval")


def translate_query(query: Query) -> dict[str, Any]:
    if query.code.lower() != "sf":
        raise NoData(f"tushare sf_month has no indicator {query.code!r}", provider=NAME, dataset=DATASET)
    return month_window(query, FIELDS)


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return monthly(payload, query, {field: field for field in FIELDS})
