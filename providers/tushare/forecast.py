"""tushare `forecast` (业绩预告): a company's forecast of a period's net profit, by announcement date.

net_profit_min/max and last_parent_net are in 万元 (ten thousand CNY), p_change_min/max in percent,
as tushare's documentation says; a revision (业绩预告修正) is a later `ann_date` of the same period and
is kept beside the first forecast (`client.statements`).
"""

from providers.tushare.client import statement_steps

DATASET = "forecast"
MARKETS = frozenset({"cn"})
API = "forecast"
FIELDS = ("ts_code,ann_date,end_date,type,p_change_min,p_change_max,net_profit_min,net_profit_max,last_parent_net,"
          "first_ann_date,summary,change_reason,update_flag")  # fmt: skip

translate_query, fetch, translate_result = statement_steps(API, FIELDS)
