"""tushare `express` (业绩快报): a period's headline figures published before its report, in yuan.

Asked and kept as the statements are (`client.statements`): by announcement date, re-sent rows
once, a corrected express (a later `ann_date`) beside the first.
"""

from providers.tushare.client import statement_steps

DATASET = "express"
MARKETS = frozenset({"cn"})
API = "express"
FIELDS = ("ts_code,ann_date,end_date,revenue,operate_profit,total_profit,n_income,total_assets,"
          "total_hldr_eqy_exc_min_int,diluted_eps,diluted_roe,yoy_net_profit,bps,perf_summary,update_flag")  # fmt: skip

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
