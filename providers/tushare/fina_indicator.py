"""tushare `fina_indicator`: per-report financial indicators, by announcement date.

tushare returns duplicate rows for a period: re-sent rows (same announcement, kept once) and
restatements (a later `ann_date`), which are kept beside the original so that a question about
a day before the restatement still gets the figures public then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.models import INDICATOR_FIELDS
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "fina_indicator"
MARKETS = frozenset({"cn"})
API = "fina_indicator"


def translate_query(query: Query) -> dict[str, Any]:
    """Reports announced in [start, end]."""
    return window(query)


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    frame = payload.frame()
    frame = frame.assign(**{c: None for c in INDICATOR_FIELDS if c not in frame.columns})
    if not len(frame):
        return frame
    frame = frame.sort_values(["end_date", "ann_date"], kind="stable")
    return frame.drop_duplicates(["ts_code", "end_date", "ann_date"], keep="last")
