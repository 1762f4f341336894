"""tushare `fund_basic` (公募基金列表): a fund's name, manager, type, benchmark, founding and listing dates.

tushare answers the exchange-traded funds (market E) unless asked otherwise; a code names its market."""

from providers.tushare.client import by_code, steps

DATASET = "fund_basic"
MARKETS = frozenset({"cn"})
WHOLE_MARKET = True  # every code at once: the names `lookup` searches
API = "fund_basic"
FIELDS = "ts_code,name,management,fund_type,invest_type,benchmark,found_date,list_date,status"


translate_query, fetch, translate_result = steps(API, FIELDS, by_code)
