"""tushare `cn_cpi` and `cn_ppi`: China's monthly CPI and PPI, as the `macro` dataset has them.

The query's code names the indicator, as for akshare's module: "cpi" is cn_cpi's national figures
(nt_val, the index with the same month a year earlier = 100; nt_yoy and nt_mom in percent), "ppi"
is cn_ppi's all-industrial-products changes (ppi_yoy, ppi_mom in percent). tushare publishes no
PPI index level, so a PPI row's `value` is missing here (akshare's carries it). Any other
indicator (pmi) is NoData, so that the composer asks the next provider.

Months are asked by start_m/end_m (YYYYMM) and kept by their first day inside the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.errors import NoData
from providers.tushare.client import NAME, TushareClient

if TYPE_CHECKING:
    import pandas as pd

DATASET = "macro"
MARKETS = frozenset({"cn"})
# indicator: (api, value field or None, yoy field, mom field)
INDICATORS: dict[str, tuple[str, str | None, str, str]] = {
    "cpi": ("cn_cpi", "nt_val", "nt_yoy", "nt_mom"),
    "ppi": ("cn_ppi", None, "ppi_yoy", "ppi_mom"),
}


def translate_query(query: Query) -> dict[str, Any]:
    indicator = query.code.lower()
    if indicator not in INDICATORS:
        raise NoData(f"tushare serves no macro indicator {query.code!r} here", provider=NAME, dataset=DATASET)
    api, value, yoy, mom = INDICATORS[indicator]
    return {"api": api, **month_window(query, (value, yoy, mom))}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(params["api"], {k: v for k, v in params.items() if k != "api"})


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    _, value, yoy, mom = INDICATORS[query.code.lower()]
    return monthly(payload, query, {"value": value, "yoy": yoy, "mom": mom})


def month_window(query: Query, fields: tuple[str | None, ...]) -> dict[str, str]:
    """The parameters of a monthly table: months by start_m/end_m (YYYYMM), `month` and `fields` asked."""
    asked = ",".join(f for f in ("month", *fields) if f)
    return {"start_m": query.start.strftime("%Y%m"), "end_m": query.end.strftime("%Y%m"), "fields": asked}


def monthly(payload: Payload, query: Query, columns: dict[str, str | None]) -> pd.DataFrame:
    """A monthly table as rows of (indicator, period, *columns), the months inside the window;
    `columns` names each output column's tushare field (None: the source has none, it is missing)."""
    import pandas as pd

    frame = payload.frame()
    # YYYYMM as its first six characters: tushare sends text, a number-typed copy of it reads "202509.0"
    month = pd.to_datetime(frame["month"].astype("string").str.slice(0, 6) + "01", format="%Y%m%d", errors="coerce")
    out = pd.DataFrame({
        "indicator": query.code.lower(),
        "period": month.dt.date,
        **{name: frame[field] if field else float("nan") for name, field in columns.items()},
    })  # fmt: skip
    # A month we cannot read stays in, so that conform reports it rather than it vanishing.
    inside = month.isna() | month.between(pd.Timestamp(query.start), pd.Timestamp(query.end))
    return out[inside].sort_values("period", kind="stable", na_position="last")
