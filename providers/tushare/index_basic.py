"""tushare `index_basic` (指数基本信息): an index's name, publisher, category, base date and base point."""

from providers.tushare.client import by_code, steps

DATASET = "index_basic"
MARKETS = frozenset({"cn"})
WHOLE_MARKET = True  # every code at once: the names `lookup` searches
API = "index_basic"
FIELDS = "ts_code,name,market,publisher,category,base_date,base_point,list_date"


translate_query, fetch, translate_result = steps(API, FIELDS, by_code)
