"""tushare `stk_holdernumber` (股东户数): how many holders a company had on a day, by announcement date.

Companies publish it at quarter ends and at other month ends; the same day announced twice (in a
monthly notice and again in the report) is kept under both announcements.
"""

from providers.tushare.client import statement_steps

DATASET = "stk_holdernumber"
MARKETS = frozenset({"cn"})
API = "stk_holdernumber"
FIELDS = "ts_code,ann_date,end_date,holder_num"

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
