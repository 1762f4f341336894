"""tushare `moneyflow` (个股资金流向): buy and sell amounts by order size, in 万元 (ten thousand CNY).

Orders are classed by the side that initiated the trade: small under 5万元, medium 5-20万元, large 20-100万元,
extra large 100万元 and over; net_mf_vol is in lots (手)."""

from providers.tushare.client import steps

DATASET = "moneyflow"
MARKETS = frozenset({"cn"})
API = "moneyflow"
FIELDS = ",".join(("ts_code", "trade_date", *(f"{side}_{size}_amount" for size in ("sm", "md", "lg", "elg")
                                              for side in ("buy", "sell")), "net_mf_vol", "net_mf_amount"))  # fmt: skip


translate_query, fetch, translate_result = steps(API, FIELDS)
