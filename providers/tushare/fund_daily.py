"""tushare `fund_daily` (ETF日线行情): unadjusted exchange-traded fund bars, prices in CNY, vol in lots, amount
in thousand CNY; at most 2,000 rows an answer (the reader asks long windows in parts)."""

from providers.tushare.client import steps

DATASET = "fund_daily"
MARKETS = frozenset({"cn"})
API = "fund_daily"
FIELDS = "ts_code,trade_date,open,high,low,close,pre_close,vol,amount"


translate_query, fetch, translate_result = steps(API, FIELDS)
