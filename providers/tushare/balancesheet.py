"""tushare `balancesheet` (资产负债表): balance sheets per report, by announcement date.

Amounts are in yuan, as tushare sends them, and are balances at the period's end (not
cumulative); `client.statements` says which rows are kept.
"""

from providers.tushare.client import statement_steps

DATASET = "balancesheet"
MARKETS = frozenset({"cn"})
API = "balancesheet"
FIELDS = (
    "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,total_assets,total_liab,"
    "total_hldr_eqy_exc_min_int,total_hldr_eqy_inc_min_int"
)

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
