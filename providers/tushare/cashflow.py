"""tushare `cashflow` (现金流量表): cash flow statements per report, by announcement date.

Amounts are in yuan, as tushare sends them, cumulative from January like the income statement;
`client.statements` says which rows are kept.
"""

from providers.tushare.client import statement_steps

DATASET = "cashflow"
MARKETS = frozenset({"cn"})
API = "cashflow"
FIELDS = (
    "ts_code,ann_date,f_ann_date,end_date,report_type,update_flag,n_cashflow_act,n_cashflow_inv_act,"
    "n_cash_flows_fnc_act,n_incr_cash_cash_equ,c_cash_equ_end_period"
)

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
