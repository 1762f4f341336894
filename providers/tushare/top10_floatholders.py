"""tushare `top10_floatholders` (前十大流通股东): the ten largest holders of tradable shares per period.

Asked and read as `top10_holders` is (hold_ratio is of the total share capital, hold_float_ratio of
the float, as tushare sends them).
"""

from providers.tushare.top10_holders import holder_steps

DATASET = "top10_floatholders"
MARKETS = frozenset({"cn"})
API = "top10_floatholders"

translate_query, fetch, translate_result = holder_steps(API)
