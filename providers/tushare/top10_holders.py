"""tushare `top10_holders` (前十大股东): the ten largest holders of each report period, in shares and percent.

tushare's start_date/end_date of this interface are report periods (its documentation), so a question
asks the periods that ended in its window; what was public on a day is decided on reading, by
`ann_date`. A period's list announced again (a correction) is kept beside the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "top10_holders"
MARKETS = frozenset({"cn"})
API = "top10_holders"
FIELDS = "ts_code,ann_date,end_date,holder_name,hold_amount,hold_ratio,hold_float_ratio,hold_change,holder_type"
_KEY = ["ts_code", "end_date", "ann_date", "holder_name", "hold_amount"]


def holder_steps(
    api: str,
) -> tuple[Callable[[Query], dict[str, Any]], Callable[[TushareClient, dict[str, Any]], Payload],
           Callable[[Payload, Query], pd.DataFrame]]:  # fmt: skip
    """The three steps of a top-10 list (holders and float holders are asked and read alike)."""

    def translate_query(query: Query) -> dict[str, Any]:
        return {**window(query), "fields": FIELDS}

    def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
        return client.query(api, params)

    def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
        frame = payload.frame()
        return frame.drop_duplicates(_KEY, keep="last") if len(frame) else frame

    return translate_query, fetch, translate_result


translate_query, fetch, translate_result = holder_steps(API)
