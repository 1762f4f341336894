"""tushare `income` (利润表): income statements per report, by announcement date.

Amounts are in yuan and EPS in yuan per share, as tushare sends them; the consolidated
statement is cumulative from January, which is what a period's kind (Q1, H1, Q3, annual) says
(`client.statements` says which rows are kept).
"""

from providers.tushare.client import statement_steps

DATASET = "income"
MARKETS = frozenset({"cn"})
API = "income"
FIELDS = "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,revenue,operate_profit,n_income_attr_p,basic_eps"

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
