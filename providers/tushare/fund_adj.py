"""tushare `fund_adj` (基金复权因子): cumulative adjustment factors of a fund (hfq = close x factor)."""

from providers.tushare.client import steps

DATASET = "fund_adj"
MARKETS = frozenset({"cn"})
API = "fund_adj"
FIELDS = "ts_code,trade_date,adj_factor"


translate_query, fetch, translate_result = steps(API, FIELDS)
