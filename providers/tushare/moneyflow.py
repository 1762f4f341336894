"""tushare `moneyflow` (个股资金流向): buy and sell amounts by order size, in 万元 (ten thousand CNY).

Orders are classed by the side that initiated the trade: small under 5万元, medium 5-20万元, large 20-100万元,
extra large 100万元 and over; net_mf_vol is in lots (手)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.contract import Payload, Query
from providers.tushare.client import TushareClient, window

if TYPE_CHECKING:
    import pandas as pd

DATASET = "moneyflow"
MARKETS = frozenset({"cn"})
API = "moneyflow"
FIELDS = ",".join(("ts_code", "trade_date", *(f"{side}_{size}_amount" for size in ("sm", "md", "lg", "elg")
                                              for side in ("buy", "sell")), "net_mf_vol", "net_mf_amount"))  # fmt: skip


def translate_query(query: Query) -> dict[str, Any]:
    return {**window(query), "fields": FIELDS}


def fetch(client: TushareClient, params: dict[str, Any]) -> Payload:
    return client.query(API, params)


def translate_result(payload: Payload, query: Query) -> pd.DataFrame:
    return payload.frame()
