"""tushare `shibor`: the Shanghai interbank offered rates by tenor, percent a year, one row a fixing day.

tushare names the tenors on, 1w, 2w, 1m, 3m, 6m, 9m and 1y, which are no SQL column names, so
they arrive here as the declaration's overnight, w1 … y1 (`providers.models.SHIBOR_TENORS`), in
that order. The query's code is the indicator ("shibor"); the window is asked by date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import NoData
from providers.models import SHIBOR_TENORS
from providers.symbols import tushare_date
from providers.tushare.client import NAME, TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "shibor"
MARKETS = frozenset({"cn"})
API = "shibor"
TUSHARE_TENORS = ("on", "1w", "2w", "1m", "3m", "6m", "9m", "1y")


def translate_query(query: Query) -> dict[str, Any]:
    if query.code.lower() != "shibor":
        raise NoData(f"tushare shibor has no indicator {query.code!r}", provider=NAME, dataset=DATASET)
    return {"start_date": tushare_date(query.start), "end_date": tushare_date(query.end),
            "fields": ",".join(("date", *TUSHARE_TENORS))}  # fmt: skip


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    frame = payload.frame()
    if frame.empty:
        return pd.DataFrame(columns=["indicator", "date", *SHIBOR_TENORS])
    days = pd.to_datetime(frame["date"].astype("string").str.slice(0, 8), format="%Y%m%d", errors="coerce")
    out = frame[list(TUSHARE_TENORS)].set_axis(list(SHIBOR_TENORS), axis=1)
    out.insert(0, "date", days.dt.date)
    out.insert(0, "indicator", "shibor")
    return out.sort_values("date", kind="stable", na_position="last").reset_index(drop=True)
