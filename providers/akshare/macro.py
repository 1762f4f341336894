"""akshare `macro_china_cpi` / `macro_china_ppi` / `macro_china_pmi`: China's monthly CPI, PPI and PMI.

Eastmoney's datacenter answers each indicator as one small table of every month it has (a few
hundred rows), with no date parameter, so one request fetches it all and the months asked for
are kept here. The query's code names the indicator: "cpi", "ppi" or "pmi".

Units, as NBS publishes them:
- `value`: CPI (全国-当月) and PPI (当月) are indices with the same month a year earlier = 100
  (100.5 means prices 0.5% higher); PMI (制造业-指数) is a diffusion index in percent, 50 being
  no change from the month before.
- `yoy`, `mom`: changes in percent. Eastmoney gives PPI no month-on-month change and PMI none
  (PMI is itself a month-on-month reading), so those are NaN. PMI's `yoy` is Eastmoney's own
  percent change of the index against the same month a year earlier, not a difference in points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.akshare.client import NAME, AkshareClient
from providers.contract import Payload, Query
from providers.errors import NoData

if TYPE_CHECKING:
    import pandas as pd

DATASET = "macro"
MARKETS = frozenset({"cn"})
# indicator: (akshare function, value column, yoy column, mom column or None where Eastmoney has none)
INDICATORS: dict[str, tuple[str, str, str, str | None]] = {
    "cpi": ("macro_china_cpi", "全国-当月", "全国-同比增长", "全国-环比增长"),
    "ppi": ("macro_china_ppi", "当月", "当月同比增长", None),
    "pmi": ("macro_china_pmi", "制造业-指数", "制造业-同比增长", None),
}


def translate_query(query: Query) -> dict[str, Any]:
    indicator = query.code.lower()
    if indicator not in INDICATORS:
        raise NoData(
            f"akshare macro has no indicator {query.code!r}; it serves {', '.join(INDICATORS)}",
            provider=NAME,
            dataset=DATASET,
        )
    return {"indicator": indicator}


def fetch(client: AkshareClient, params: dict[str, Any]) -> Payload:
    import akshare as ak

    api = INDICATORS[params["indicator"]][0]
    return Payload.of(api, getattr(ak, api)())


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    import pandas as pd

    indicator = query.code.lower()
    _, value, yoy, mom = INDICATORS[indicator]
    frame = payload.frame()
    year_month = frame["月份"].astype("string").str.extract(r"(\d{4})年(\d{1,2})月")
    month = pd.to_datetime(year_month[0] + "-" + year_month[1] + "-01", format="%Y-%m-%d", errors="coerce")
    out = pd.DataFrame({
        "indicator": indicator,
        "period": month.dt.date,
        "value": frame[value],
        "yoy": frame[yoy],
        "mom": frame[mom] if mom else float("nan"),
    })  # fmt: skip
    # A month we cannot read stays in, so that conform reports it rather than it vanishing.
    inside = month.isna() | month.between(pd.Timestamp(query.start), pd.Timestamp(query.end))
    return out[inside].sort_values("period", kind="stable", na_position="last")
