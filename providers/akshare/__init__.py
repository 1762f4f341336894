"""akshare (A-shares without a token): Eastmoney's public endpoints through the akshare library."""

from providers.akshare import adj_factor, daily, fina_indicator, macro, spot

MODULES = (daily, adj_factor, fina_indicator, spot, macro)
