"""tushare `index_daily` (指数日线行情): index levels in points, vol in lots (手), amount in thousand CNY.

tushare caps an answer at 8,000 rows and has no Shenwan (申万) indexes here (they need 5,000 points)."""

from providers.tushare.client import steps

DATASET = "index_daily"
MARKETS = frozenset({"cn"})
API = "index_daily"
FIELDS = "ts_code,trade_date,open,high,low,close,pre_close,vol,amount"


translate_query, fetch, translate_result = steps(API, FIELDS)
