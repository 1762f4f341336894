"""tushare Pro (A-shares, needs TUSHARE_TOKEN): one module per dataset on the official SDK."""

from providers.tushare import adj_factor, daily, daily_basic, fina_indicator, stock_basic, trade_cal

MODULES = (daily, adj_factor, trade_cal, daily_basic, fina_indicator, stock_basic)
