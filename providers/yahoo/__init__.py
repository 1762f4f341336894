"""Yahoo Finance (global tickers, and A-shares for cross-checks) through the yfinance library."""

from providers.yahoo import adj_factor, daily

MODULES = (daily, adj_factor)
